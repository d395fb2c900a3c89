"""The business view computed from a known dataset, and its cost in queries."""

from datetime import UTC, date, datetime

from sqlalchemy import delete, event

from tests.factories import make_org, make_user
from webapp.admin.figures import business_figures
from webapp.billing.models import BillingAccount, Invoice, Payment
from webapp.extensions import db
from webapp.subscriptions.models import Plan, Subscription

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def d(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _dataset():
    owner = make_user("finance-owner@example.com")
    orgs = [make_org(owner, f"Fig {n}", f"fig-{n}") for n in range(1, 7)]
    for model in (Payment, Invoice, Subscription, BillingAccount):
        db.session.execute(delete(model))  # whatever organization set-up created: only the known dataset stays
    basic = Plan(code="T_BASIC", name="Test Basic", monthly_price=1000, sort_order=901)
    pro = Plan(code="T_PRO", name="Test Pro", monthly_price=5000, sort_order=902)
    db.session.add_all([basic, pro])
    db.session.flush()

    def sub(org, plan, status, amount, created, interval="MONTHLY", **kw):
        db.session.add(
            Subscription(
                organization_id=org.id,
                plan_id=plan.id,
                status=status,
                billing_interval=interval,
                amount=amount,
                currency="USD",
                current_period_start=d(created),
                current_period_end=d("2026-07-01"),
                created_at=d(created),
                **kw,
            )
        )

    o1, o2, o3, o4, o5, o6 = orgs
    sub(o1, basic, "ACTIVE", 1000, "2026-01-10")
    sub(o2, pro, "ACTIVE", 120000, "2026-05-20", interval="YEARLY")  # 10,000 a month
    sub(o3, pro, "PAST_DUE", 5000, "2026-02-02")
    sub(o4, basic, "TRIALING", 1000, "2026-06-04", trial_start=d("2026-06-04"), trial_end=d("2026-06-18"))
    sub(o5, basic, "CANCELED", 1000, "2026-01-02", canceled_at=d("2026-05-25"), ended_at=d("2026-06-01"))
    sub(o6, pro, "INCOMPLETE", 5000, "2026-06-01")

    accounts = {o.id: BillingAccount(organization_id=o.id) for o in orgs}
    accounts[o3.id].status = "SUSPENDED"
    db.session.add_all(accounts.values())
    db.session.flush()

    def invoice(org, status, due, amount_due):
        db.session.add(
            Invoice(
                organization_id=org.id,
                account_id=accounts[org.id].id,
                status=status,
                currency="USD",
                period_start=date(2026, 5, 1),
                period_end=date(2026, 5, 31),
                total=amount_due or 100,
                amount_due=amount_due,
                due_at=d(due),
            )
        )

    invoice(o1, "ISSUED", "2026-06-20", 1000)
    invoice(o3, "OVERDUE", "2026-06-01", 5000)
    invoice(o3, "ISSUED", "2026-06-10", 2500)  # past due by date, not yet marked
    invoice(o2, "PAID", "2026-06-01", 0)
    invoice(o5, "VOID", "2026-06-01", 3000)

    def payment(org, status, method, amount, completed):
        db.session.add(
            Payment(
                organization_id=org.id,
                account_id=accounts[org.id].id,
                amount=amount,
                currency="USD",
                method=method,
                provider="manual",
                status=status,
                completed_at=d(completed) if completed else None,
            )
        )

    payment(o1, "PAID", "PAYNOW_ECOCASH", 1000, "2026-06-02")
    payment(o1, "PAID", "PAYNOW_ECOCASH", 2000, "2026-06-10")
    payment(o2, "PAID", "BANK_TRANSFER", 120000, "2026-05-20")
    payment(o3, "FAILED", "PAYNOW_ECOCASH", 999, "2026-06-05")
    payment(o3, "PENDING", "CASH", 500, None)
    db.session.commit()


def test_figures_from_a_known_dataset(ctx):
    _dataset()
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        fig = business_figures(now=NOW)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) <= 8  # a handful of aggregate queries, whatever the number of organizations

    assert (fig.mrr, fig.mrr_30_days_ago, fig.mrr_change) == (16000, 7000, 9000)
    assert fig.mrr_change_pct == 128.6
    assert fig.active_by_plan == [("T_BASIC", "Test Basic", 1), ("T_PRO", "Test Pro", 2)]
    assert fig.active_total == 3 and fig.trials_ending == 1
    assert (fig.open_receivables, fig.overdue_total, fig.overdue_invoices) == (8500, 7500, 2)
    assert fig.suspended_accounts == 1
    assert fig.collected_by_method == [("PAYNOW_ECOCASH", 2, 3000)] and fig.collected_total == 3000
    assert fig.churned_30_days == 1
    assert fig.months == ["Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun"]
    assert fig.mrr_series == [0] * 6 + [2000, 7000, 7000, 7000, 16000, 16000]
    assert fig.churn_series == [0] * 11 + [1]
    assert fig.collected_series == [0] * 10 + [120000, 3000]


def test_business_view_page_links_every_figure(app, client, make_client):
    with app.app_context():
        _dataset()
        make_user("cfo@tessera.example", staff=True)
    client.login("cfo@tessera.example")
    page = client.get("/admin/")  # today (after the dataset): the trial has converted, every open invoice is late
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    for figure_id in (
        "fig-mrr",
        "fig-active",
        "fig-trials",
        "fig-receivables",
        "fig-overdue",
        "fig-suspended",
        "fig-collected",
        "fig-churn",
    ):
        card = body.split(f'id="{figure_id}"')[1].split("</article>")[0]
        assert '<a href="/admin/' in card, figure_id
    assert "USD 170.00" in body.split('id="fig-mrr"')[1].split("</article>")[0]
    assert "USD 85.00" in body.split('id="fig-overdue"')[1].split("</article>")[0]
    assert "<polyline" in body and "Test Pro" in body
    outsider = make_client()
    with app.app_context():
        make_user("curious@example.com")
    outsider.login("curious@example.com")
    assert outsider.get("/admin/").status_code == 404
