"""Issue 20: a service month or subscription period is billed exactly once, whatever made the invoice."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from tests.billing.helpers import org_with_owner, staff_user
from webapp.billing import services as billing
from webapp.billing.models import BilledPeriod, BillingRun, Invoice, InvoiceLineItem
from webapp.core import display
from webapp.core.errors import DomainError
from webapp.core.transaction import is_conflict
from webapp.extensions import db

NOV = (date(2026, 11, 1), date(2026, 11, 30))


def _service(org, name="POS Terminal #1", fee=3_500, activated=datetime(2025, 1, 1, tzinfo=UTC)):
    return billing.create_service(org, None, type="POS_TERMINAL", name=name, monthly_fee=fee, activated_at=activated)


def _billed_invoice(org, services, period=NOV, finalize=True):
    """What the demo does: a draft with a line per service for the month, finalized."""
    invoice = billing.create_draft_invoice(
        billing.billing_account_for(org), period_start=period[0], period_end=period[1]
    )
    for service in services:
        billing.add_line_item(invoice, f"{service.name} {period[0]:%b %Y}", 1, service.monthly_fee, service=service)
    if finalize:
        billing.finalize_invoice(invoice, None, send_email=False)
    db.session.commit()
    return invoice


def _live(key):
    return list(
        db.session.scalars(
            select(BilledPeriod).where(BilledPeriod.billable_key == key, BilledPeriod.released_at.is_(None))
        )
    )


def _service_lines(service_id, *statuses):
    stmt = select(InvoiceLineItem).join(Invoice).where(InvoiceLineItem.service_id == service_id)
    if statuses:
        stmt = stmt.where(Invoice.status.in_(statuses))
    return list(db.session.scalars(stmt))


def test_reproduction_run_for_a_month_the_demo_billed_says_already_billed(ctx, client, run_jobs):
    staff_user("ops@example.com")
    harare, _ = org_with_owner()
    harare.name = "Harare Retail Group"
    terminals = [
        _service(harare, "POS Terminal #1"),
        _service(harare, "POS Terminal #2"),
        _service(harare, "Care", 1_500),
    ]
    demo_invoice = _billed_invoice(harare, terminals)
    fresh, _ = org_with_owner()
    new_service = _service(fresh, "Till", 2_000)
    db.session.commit()
    client.login("ops@example.com")
    assert client.post("/admin/invoices/runs", {"period": "2026-11"}).status_code == 303
    run_jobs()
    db.session.expire_all()
    run = db.session.scalar(select(BillingRun))
    assert run.status == "SUCCEEDED"
    assert db.session.scalar(select(func.count()).select_from(Invoice).where(Invoice.organization_id == harare.id)) == 1
    for service in terminals:
        assert len(_service_lines(service.id)) == 1
    assert len(_service_lines(new_service.id, "ISSUED")) == 1
    assert run.counts["invoices"] == 1 and run.counts["already_billed"] == 1 and run.counts["lines_already_billed"] == 3
    page = client.get(f"/admin/invoices/runs/{run.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Harare Retail Group" in text and "already billed by" in text and demo_invoice.number in text
    assert text.count(f">{demo_invoice.number}</a>") == 3
    billed_number = db.session.scalar(select(Invoice.number).where(Invoice.organization_id == fresh.id))
    assert billed_number in text and "Till" in text
    assert f"/admin/invoices/runs/{run.id}" in client.get("/admin/invoices").get_data(as_text=True)
    # Run it again: nothing more.
    assert client.post("/admin/invoices/runs", {"period": "2026-11"}).status_code == 303
    run_jobs()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 2


def test_the_report_page_is_staff_only(ctx, client, make_client):
    staff_user("ops@example.com")
    _org, owner = org_with_owner()
    db.session.commit()
    run = billing.run_billing("2026-11")
    db.session.commit()
    client.login(owner.email)
    assert client.get(f"/admin/invoices/runs/{run.id}").status_code in (403, 404)
    staff = make_client()
    staff.login("ops@example.com")
    assert staff.get(f"/admin/invoices/runs/{run.id + 1000}").status_code == 404


def test_staff_draft_line_for_a_service_month_the_run_billed_is_refused_with_the_invoice(ctx, client):
    staff_user("ops@example.com")
    org, _ = org_with_owner()
    other, _ = org_with_owner()
    service = _service(org)
    foreign = _service(other, "Theirs")
    db.session.commit()
    billing.run_billing("2026-11", send_emails=False)
    db.session.commit()
    billed = db.session.scalar(select(Invoice).where(Invoice.organization_id == org.id))
    client.login("ops@example.com")
    client.post("/admin/invoices/new", {"organization": org.slug, "period": "2026-11"})
    draft = db.session.scalar(select(Invoice).where(Invoice.status == "DRAFT"))
    answer = client.post(
        f"/admin/invoices/{draft.id}/lines",
        {"description": "Terminal again", "quantity": "1", "unit_price": "35.00", "service": str(service.id)},
    )
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "already billed" in text and billed.number in text
    # Another organization's service is refused too, a hostile id is a form error.
    answer = client.post(
        f"/admin/invoices/{draft.id}/lines",
        {"description": "x", "quantity": "1", "unit_price": "1.00", "service": str(foreign.id)},
    )
    assert answer.status_code == 422 and "not this organization" in answer.get_data(as_text=True)
    for hostile in ("99999999999999999999", "1\x00", "²", "-1"):
        answer = client.post(
            f"/admin/invoices/{draft.id}/lines",
            {"description": "x", "quantity": "1", "unit_price": "1.00", "service": hostile},
        )
        assert answer.status_code in (400, 422)
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count()).select_from(InvoiceLineItem).where(InvoiceLineItem.invoice_id == draft.id)
        )
        == 0
    )
    # December is free: the staff line claims it, and the run for December then says so.
    client.post("/admin/invoices/new", {"organization": org.slug, "period": "2026-12"})
    december = db.session.scalar(
        select(Invoice).where(Invoice.status == "DRAFT", Invoice.period_start == date(2026, 12, 1))
    )
    answer = client.post(
        f"/admin/invoices/{december.id}/lines",
        {"description": "Terminal Dec", "quantity": "1", "unit_price": "35.00", "service": str(service.id)},
    )
    assert answer.status_code == 303
    run = billing.run_billing("2026-12", send_emails=False)
    db.session.commit()
    entry = next(e for e in run.report if e["organization_id"] == org.id)
    assert entry["billed"] is None and entry["already_billed"][0]["invoice"] == december.display_number
    assert len(_live(billing.service_key(service.id))) == 2


def test_every_path_then_the_run_and_the_run_then_every_path(ctx):
    from webapp.subscriptions import billing_bridge
    from webapp.subscriptions import services as subs
    from webapp.subscriptions.catalog import plan_by_code

    org, owner = org_with_owner()
    service = _service(org)
    db.session.commit()
    # demo / staff draft first, then the run: nothing twice.
    _billed_invoice(org, [service], period=(date(2026, 9, 1), date(2026, 9, 30)))
    run = billing.run_billing("2026-09", send_emails=False)
    assert run.counts["invoices"] == 0 and len(_service_lines(service.id)) == 1
    # an unfinalized draft holds the period too
    draft = _billed_invoice(org, [service], period=(date(2026, 10, 1), date(2026, 10, 31)), finalize=False)
    run = billing.run_billing("2026-10", send_emails=False)
    assert run.counts["invoices"] == 0 and run.report[0]["already_billed"][0]["invoice"] == draft.display_number
    # the run first, then the demo path / a staff draft: refused naming the run's invoice.
    billing.run_billing("2026-11", send_emails=False)
    db.session.commit()
    by_run = db.session.scalar(select(Invoice).where(Invoice.run_period == "2026-11"))
    with pytest.raises(billing.AlreadyBilled) as refused:
        _billed_invoice(org, [service])
    assert refused.value.invoice_number == by_run.number and by_run.number in refused.value.message
    db.session.rollback()

    # Subscriptions: a renewal and a proration bill their days once; a second attempt is skipped.
    with time_machine.travel(datetime(2026, 11, 3, 9, 0, tzinfo=UTC), tick=False):
        sub = subs.current_subscription(org)
        subs.change_plan(sub, plan_by_code("TEAM_STANDARD"), "MONTHLY", owner)
        db.session.commit()
        first = db.session.get(Invoice, sub.last_invoice_id)
        again = billing_bridge.invoice_subscription(
            sub, [("again", 1, 4_900)], period_start=sub.current_period_start, period_end=sub.current_period_end
        )
        assert again is None and sub.last_invoice_id == first.id
    with time_machine.travel(datetime(2026, 11, 13, 9, 0, tzinfo=UTC), tick=False):
        subs.change_plan(sub, plan_by_code("TEAM_PREMIUM"), "MONTHLY", owner)
        db.session.commit()
        upgrade = db.session.get(Invoice, sub.last_invoice_id)
        assert upgrade.id != first.id and upgrade.total > 0
        twice = billing_bridge.invoice_subscription(
            sub,
            [("upgrade again", 1, 1_000)],
            period_start=utcnow_(),
            period_end=sub.current_period_end,
            upgrade_to="TEAM_PREMIUM",
        )
        assert twice is None
    keys = {p.billable_key for p in db.session.scalars(select(BilledPeriod))}
    assert billing.subscription_key(sub.id) in keys and billing.upgrade_key(sub.id, "TEAM_PREMIUM") in keys
    with time_machine.travel(sub.current_period_end, tick=False):
        subs.renew(sub)
        db.session.commit()
        renewal = db.session.get(Invoice, sub.last_invoice_id)
        assert renewal.id not in (first.id, upgrade.id)
        # a renewal of the same period (a retried job) is skipped, not billed twice
        again = billing_bridge.invoice_subscription(
            sub, [("again", 1, 14_900)], period_start=sub.current_period_start, period_end=sub.current_period_end
        )
        assert again is None
    from webapp.audit.models import AuditEntry

    skipped = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "subscription.invoice_skipped")).all()
    assert len(skipped) == 3 and skipped[-1].details["invoice"] == renewal.number
    live = _live(billing.subscription_key(sub.id))
    assert len(live) == 2 and live[0].end_date < live[1].start_date


def utcnow_():
    from webapp.core.models import utcnow

    return utcnow()


def _pay_and_credit(invoice, lines=None):
    billing.record_manual_payment(invoice, None, invoice.amount_due, "CASH", f"R-{invoice.id}")
    return billing.issue_credit_note(invoice, None, "terminal returned", lines=lines)


def test_void_then_rerun_bills_again_and_credits_give_back_only_whole_lines(ctx):
    org, _ = org_with_owner()
    one, two = _service(org, "One", 3_000), _service(org, "Two", 2_000)
    db.session.commit()
    billing.run_billing("2026-11", send_emails=False)
    first = db.session.scalar(select(Invoice).where(Invoice.run_period == "2026-11"))
    assert billing.billed_through(billing.service_key(one.id)) == date(2026, 11, 30)
    billing.void_invoice(first, None, "wrong address")
    db.session.commit()
    assert _live(billing.service_key(one.id)) == [] and billing.billed_through(billing.service_key(one.id)) is None
    run = billing.run_billing("2026-11", send_emails=False)
    db.session.commit()
    assert run.counts["invoices"] == 1
    second = db.session.scalar(select(Invoice).where(Invoice.run_period == "2026-11", Invoice.status == "ISSUED"))
    assert second.id != first.id and len(second.lines) == 2
    # A partial credit of line One keeps it billed; crediting the rest of it gives it back; Two stays.
    line_one = next(line for line in second.lines if line.service_id == one.id)
    _pay_and_credit(second, {line_one.id: 1_000})
    db.session.commit()
    assert billing.run_billing("2026-11", send_emails=False).counts["invoices"] == 0
    billing.issue_credit_note(second, None, "rest", lines={line_one.id: line_one.total - 1_000})
    db.session.commit()
    assert _live(billing.service_key(one.id)) == [] and len(_live(billing.service_key(two.id))) == 1
    run = billing.run_billing("2026-11", send_emails=False)
    db.session.commit()
    third = db.session.scalar(select(Invoice).where(Invoice.id == run.report[0]["billed"]["invoice_id"]))
    assert [line.service_id for line in third.lines] == [one.id]
    assert run.report[0]["already_billed"][0]["invoice"] == second.number
    # A whole-invoice credit gives back everything on it.
    _pay_and_credit(third)
    db.session.commit()
    assert _live(billing.service_key(one.id)) == []


def test_part_of_a_month_billed_elsewhere_leaves_only_the_rest_to_the_run(ctx):
    org, _ = org_with_owner()
    service = _service(org, fee=3_000)
    db.session.commit()
    invoice = billing.create_draft_invoice(billing.billing_account_for(org), period_start=NOV[0], period_end=NOV[1])
    billing.add_line_item(
        invoice, "first half", 1, 1_500, service=service, period=(date(2026, 11, 1), date(2026, 11, 15))
    )
    billing.finalize_invoice(invoice, None, send_email=False)
    run = billing.run_billing("2026-11", send_emails=False)
    db.session.commit()
    line = next(iter(_service_lines(service.id, "ISSUED")), None)
    lines = [line for line in _service_lines(service.id) if line.invoice_id != invoice.id]
    assert line is not None and len(lines) == 1 and lines[0].total == 1_500 and "15 of 30 days" in lines[0].description
    periods = sorted(_live(billing.service_key(service.id)), key=lambda p: p.start_date)
    assert [(p.start_date, p.end_date) for p in periods] == [
        (date(2026, 11, 1), date(2026, 11, 15)),
        (date(2026, 11, 16), date(2026, 11, 30)),
    ]
    assert run.counts["invoices"] == 1


@pytest.mark.postgres
def test_the_database_refuses_two_live_overlapping_periods(ctx):
    from sqlalchemy.exc import IntegrityError

    org, _ = org_with_owner()
    service = _service(org)
    db.session.commit()
    _billed_invoice(org, [service])
    period = _live(billing.service_key(service.id))[0]
    other = billing.create_draft_invoice(billing.billing_account_for(org), period_start=NOV[0], period_end=NOV[1])
    free_text = billing.add_line_item(other, "free text", 1, 100)
    db.session.commit()
    twin = BilledPeriod(
        organization_id=org.id,
        line_id=free_text.id,
        invoice_id=other.id,
        account_id=other.account_id,
        billable_key=period.billable_key,
        start_date=date(2026, 11, 30),
        end_date=date(2026, 12, 5),
    )
    db.session.add(twin)
    with pytest.raises(IntegrityError, match="ex_billing_billed_periods_live_overlap") as refused:
        db.session.flush()
    # an exclusion violation (23P01) is a race perform() retries, then refuses clearly: never a 500
    assert is_conflict(refused.value)
    db.session.rollback()
    twin = db.session.merge(twin)
    twin.start_date = date(2026, 12, 1)  # touching, not overlapping: allowed
    db.session.add(twin)
    db.session.commit()
    period = db.session.get(BilledPeriod, period.id)
    period.released_at = utcnow_()  # released: the same days may be claimed again
    db.session.commit()
    again = BilledPeriod(
        **{c: getattr(twin, c) for c in ("organization_id", "invoice_id", "account_id", "billable_key")}
    )
    again.line_id = billing.add_line_item(other, "another", 1, 100).id
    again.start_date, again.end_date = NOV
    db.session.add(again)
    db.session.commit()


def _race(app, first, second):
    """``first`` claims and holds its transaction open while ``second`` tries; then ``first`` commits."""
    results, claimed, errors = {}, threading.Event(), []

    def hold():
        try:
            with app.app_context():
                results["first"] = first()
                claimed.set()
                time.sleep(1.0)
                db.session.commit()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
            claimed.set()

    def race():
        try:
            claimed.wait(10)
            with app.app_context():
                results["second"] = second()
                db.session.commit()
        except Exception as error:
            results["second_error"] = error

    threads = [threading.Thread(target=hold), threading.Thread(target=race)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    return results


@pytest.mark.postgres
@pytest.mark.parametrize("staff_first", [True, False])
def test_concurrent_run_and_staff_draft_bill_the_service_month_once(app, ctx, staff_first):
    org, _ = org_with_owner()
    service = _service(org)
    service_id, org_id = service.id, org.id
    db.session.commit()

    def staff():
        from webapp.orgs.models import Organization

        account = billing.billing_account_for(db.session.get(Organization, org_id))
        invoice = billing.create_draft_invoice(account, period_start=NOV[0], period_end=NOV[1])
        billing.add_line_item(invoice, "Terminal (staff)", 1, 3_500, service=service_id)
        return invoice.display_number

    def run():
        return billing.run_billing("2026-11", send_emails=False).report

    results = _race(app, staff, run) if staff_first else _race(app, run, staff)
    db.session.expire_all()
    assert len(_live(billing.service_key(service_id))) == 1
    live_lines = [line for line in _service_lines(service_id) if line.invoice.status != "VOID"]
    assert len(live_lines) == 1
    if staff_first:
        entry = next(e for e in results["second"] if e["organization_id"] == org_id)
        assert entry["billed"] is None and entry["already_billed"][0]["invoice"] == results["first"]
    else:
        error = results["second_error"]
        assert isinstance(error, billing.AlreadyBilled)
        number = db.session.scalar(select(Invoice.number).where(Invoice.run_period == "2026-11"))
        assert number and number in error.message


def _snapshot(org_ids, events):
    from webapp.audit.models import AuditEntry

    db.session.flush()
    invoices = db.session.scalars(
        select(Invoice).where(Invoice.organization_id.in_(org_ids)).order_by(Invoice.id)
    ).all()
    shots = []
    for invoice in invoices:
        actions = db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "Invoice", AuditEntry.entity_id == invoice.id)
            .order_by(AuditEntry.id)
        ).all()
        shots.append(
            (
                invoice.organization_id,
                invoice.number,
                invoice.status,
                invoice.subtotal,
                invoice.tax,
                invoice.total,
                invoice.amount_due,
                invoice.paid_at is not None,
                [(line.description, line.total, line.service_id) for line in invoice.lines],
                list(actions),
            )
        )
    position = {invoice.id: n for n, invoice in enumerate(invoices)}  # ids differ: sequences do not roll back
    return shots, [
        (e.name, e.org_id, position.get(e.data.get("invoice_id")), e.actor_id)
        for e in events
        if e.name.startswith("invoice.")
    ]


def test_the_run_and_one_by_one_finalization_make_the_same_invoices_audit_and_events(ctx):
    from webapp.core import events as bus

    orgs, lines = [], {}
    for name, fee, extra in (
        ("normal", 3_000, None),
        ("zero", 0, None),  # a zero-total invoice: PAID at once, invoice.paid
        ("credited", 2_000, -2_000),  # a credit line covers it: zero total
        ("negative", 1_000, -1_500),  # refused, never clamped: left as a draft
    ):
        org, _ = org_with_owner()
        service = _service(org, name, fee)
        orgs.append(org)
        lines[org.id] = (service, extra)
    db.session.commit()
    org_ids = [org.id for org in orgs]

    def source(account, start, end):
        extra = lines.get(account.organization_id, (None, None))[1]
        return [billing.LineSpec("Goodwill credit", 1, extra)] if extra else []

    seen = []
    bus._subscribers["*"].append(seen.append)
    billing.BILLING_RUN_SOURCES.append(source)
    try:
        run = billing.run_billing("2026-11", send_emails=False)
        by_run = _snapshot(org_ids, seen)
        report = {e["organization_id"]: e for e in run.report}
        db.session.rollback()
        seen.clear()
        billing.BILLING_RUN_SOURCES.remove(source)

        drafts = []
        for org in orgs:
            service, extra = lines[org.id]
            invoice = billing.create_draft_invoice(
                billing.billing_account_for(org), period_start=NOV[0], period_end=NOV[1]
            )
            invoice.run_period = "2026-11"
            billing.add_line_item(
                invoice,
                f"{service.name} ({display.label(service.type)}) Nov 2026",
                1,
                service.monthly_fee,
                service=service,
            )
            if extra:
                billing.add_line_item(invoice, "Goodwill credit", 1, extra)
            drafts.append(invoice)
        refusals = []
        for invoice in drafts:
            try:
                billing.finalize_invoice(invoice, None, send_email=False)
            except DomainError as error:
                refusals.append(error.code)
        one_by_one = _snapshot(org_ids, seen)
    finally:
        bus._subscribers["*"].remove(seen.append)
        if source in billing.BILLING_RUN_SOURCES:
            billing.BILLING_RUN_SOURCES.remove(source)
        db.session.rollback()
    assert by_run == one_by_one
    statuses = [shot[2] for shot in by_run[0]]
    assert statuses == ["ISSUED", "PAID", "PAID", "DRAFT"] and refusals == ["invoice_negative"]
    assert [name for name, *_ in by_run[1]].count("invoice.paid") == 2
    assert "invoice.issued" in by_run[0][0][9] and "invoice.finalized" in by_run[0][0][9]
    negative = report[orgs[3].id]
    assert negative["billed"] is None and "cannot be negative" in negative["skipped"][0]
    assert run.counts["skipped"] == 1 and run.counts["invoices"] == 3


def test_the_demo_bills_through_the_same_service_so_the_run_says_already_billed(ctx, client, run_jobs):
    from webapp.billing.demo import _month, billing_demo
    from webapp.orgs.demo import demo_org, staff_and_organizations

    staff_and_organizations()
    db.session.commit()
    billing_demo()
    db.session.commit()
    harare = demo_org("harare-retail")
    last_month = _month(-1)[0]
    period = f"{last_month.year}-{last_month.month:02d}"
    demo_invoice = db.session.scalar(
        select(Invoice).where(Invoice.organization_id == harare.id, Invoice.period_start == last_month)
    )
    before = db.session.scalar(select(func.count()).select_from(Invoice))
    staff_user("ops@example.com")
    client.login("ops@example.com")
    assert client.post("/admin/invoices/runs", {"period": period}).status_code == 303
    run_jobs()
    db.session.expire_all()
    run = db.session.scalar(select(BillingRun).order_by(BillingRun.id.desc()))
    entry = next(e for e in run.report if e["organization_id"] == harare.id)
    assert entry["billed"] is None and {i["invoice"] for i in entry["already_billed"]} == {demo_invoice.number}
    assert len(entry["already_billed"]) == 3
    made = db.session.scalars(select(Invoice).where(Invoice.run_period == period)).all()
    assert all(invoice.organization_id not in (harare.id, demo_org("bulawayo-foods").id) for invoice in made)
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == before + len(made)
    text = client.get(f"/admin/invoices/runs/{run.id}").get_data(as_text=True)
    assert "already billed by" in text and demo_invoice.number in text
