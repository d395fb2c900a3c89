from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.factories import add_member, make_org, make_user
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.subscriptions import services
from webapp.subscriptions.catalog import plan_by_code
from webapp.subscriptions.models import Subscription


def _org(client, role="OWNER"):
    owner = make_user()
    org = make_org(owner)
    user = owner
    if role != "OWNER":
        user = make_user()
        add_member(org, user, role)
    client.login(user.email)
    return user, org


def _current(org):
    db.session.expire_all()
    return db.session.scalar(
        select(Subscription).where(Subscription.organization_id == org.id, Subscription.ended_at.is_(None))
    )


def _invoices(org):
    from webapp.billing.models import Invoice

    db.session.expire_all()
    return list(db.session.scalars(select(Invoice).where(Invoice.organization_id == org.id).order_by(Invoice.id)))


def test_new_organization_starts_on_free_and_page_shows_every_limit(client, ctx):
    _, org = _org(client)
    sub = _current(org)
    assert sub.plan.code == "FREE" and sub.status == "ACTIVE" and sub.amount == 0
    page = client.get(f"/o/{org.slug}/subscription").get_data(as_text=True)
    for name in ("users", "storage_mb", "ai_credits", "api_calls"):
        assert f'id="limit-{name}"' in page
    assert page.count("<meter") == 4 and "1 of 5" in page
    for plan in ("Free", "Individual Pro", "Team Standard", "Team Premium", "Enterprise"):
        assert plan in page


def test_new_team_org_can_start_on_a_trial_by_setting(client, ctx):
    from webapp.settings.models import SystemSetting

    db.session.add(SystemSetting(key="subscriptions.new_org_trial_days", value="10"))
    db.session.commit()
    _, org = _org(client)
    sub = _current(org)
    assert sub.status == "TRIALING" and sub.plan.code == "TEAM_STANDARD"
    assert timedelta(days=9) < sub.trial_end - utcnow() <= timedelta(days=10)


def test_billing_role_sees_the_page_member_does_not(client, make_client, ctx):
    _, org = _org(client, "BILLING")
    assert client.get(f"/o/{org.slug}/subscription").status_code == 200
    member = make_user()
    add_member(org, member, "MEMBER")
    other = make_client()
    other.login(member.email)
    assert other.get(f"/o/{org.slug}/subscription").status_code == 403
    assert other.post(f"/o/{org.slug}/subscription/cancel").status_code == 403


def test_upgrade_from_free_starts_a_paid_period_with_an_invoice(client, ctx):
    _, org = _org(client)
    preview = client.get(f"/o/{org.slug}/subscription/preview?plan=TEAM_STANDARD&interval=MONTHLY")
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Takes effect <strong>now</strong>" in text and "USD 49.00" in text
    assert _current(org).plan.code == "FREE"  # the preview changed nothing
    response = client.post(f"/o/{org.slug}/subscription/change", {"plan": "TEAM_STANDARD", "interval": "MONTHLY"})
    assert response.status_code == 303
    sub = _current(org)
    assert sub.plan.code == "TEAM_STANDARD" and sub.amount == 4900 and sub.status == "ACTIVE"
    invoice = _invoices(org)[-1]
    assert invoice.subscription_id == sub.id and invoice.subtotal == 4900 and invoice.status == "ISSUED"


def test_upgrade_mid_period_is_prorated_by_day(client, ctx):
    user, org = _org(client)
    start = utcnow().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        services.change_plan(services.current_subscription(org), plan_by_code("TEAM_STANDARD"), "MONTHLY", user)
        db.session.commit()
    sub = _current(org)
    period_days = (sub.current_period_end.date() - sub.current_period_start.date()).days
    with time_machine.travel(start + timedelta(days=10), tick=False):
        page = client.get(f"/o/{org.slug}/subscription/preview?plan=TEAM_PREMIUM&interval=MONTHLY")
        text = page.get_data(as_text=True)
        days_left = period_days - 10
        charge = (14900 * days_left * 2 + period_days) // (period_days * 2)
        credit = (4900 * days_left * 2 + period_days) // (period_days * 2)
        assert f"{days_left} of {period_days} days" in text
        total = charge - credit
        assert f"USD {total // 100}.{total % 100:02d}" in text
        client.post(f"/o/{org.slug}/subscription/change", {"plan": "TEAM_PREMIUM", "interval": "MONTHLY"})
    sub = _current(org)
    assert (
        sub.plan.code == "TEAM_PREMIUM"
        and sub.current_period_end.date() == (start + timedelta(days=period_days)).date()
    )
    last = _invoices(org)[-1]
    assert last.subtotal == total and f"{days_left} of {period_days} days" in last.lines[0].description


def test_downgrade_waits_for_period_end_then_renewal_applies_it(client, ctx):
    user, org = _org(client)
    services.change_plan(services.current_subscription(org), plan_by_code("TEAM_PREMIUM"), "MONTHLY", user)
    db.session.commit()
    preview = client.get(f"/o/{org.slug}/subscription/preview?plan=TEAM_STANDARD&interval=MONTHLY").get_data(
        as_text=True
    )
    assert "Takes effect at the end of this period" in preview and "Nothing is charged now" in preview
    client.post(f"/o/{org.slug}/subscription/change", {"plan": "TEAM_STANDARD", "interval": "MONTHLY"})
    sub = _current(org)
    assert sub.plan.code == "TEAM_PREMIUM" and sub.pending_plan.code == "TEAM_STANDARD"
    invoices_before = len(_invoices(org))
    with time_machine.travel(sub.current_period_end + timedelta(hours=1)):
        from webapp.subscriptions.jobs import renew_subscriptions

        renew_subscriptions()
    sub = _current(org)
    assert sub.plan.code == "TEAM_STANDARD" and sub.pending_plan_id is None and sub.amount == 4900
    invoices = _invoices(org)
    assert len(invoices) == invoices_before + 1 and invoices[-1].subtotal == 4900
    assert invoices[-1].period_start == sub.current_period_start.date()


def test_switch_interval_is_scheduled(client, ctx):
    user, org = _org(client)
    services.change_plan(services.current_subscription(org), plan_by_code("TEAM_STANDARD"), "MONTHLY", user)
    db.session.commit()
    client.post(f"/o/{org.slug}/subscription/change", {"plan": "TEAM_STANDARD", "interval": "YEARLY"})
    sub = _current(org)
    assert sub.billing_interval == "MONTHLY" and sub.pending_interval == "YEARLY"
    with time_machine.travel(sub.current_period_end + timedelta(minutes=5)):
        services.renew_due()
        db.session.commit()
    sub = _current(org)
    assert sub.billing_interval == "YEARLY" and sub.amount == 49000
    assert (sub.current_period_end - sub.current_period_start).days in (365, 366)


def test_cancel_at_period_end_resume_and_end(client, ctx):
    user, org = _org(client)
    services.change_plan(services.current_subscription(org), plan_by_code("INDIVIDUAL_PRO"), "MONTHLY", user)
    db.session.commit()
    assert client.post(f"/o/{org.slug}/subscription/cancel").status_code == 303
    assert _current(org).cancel_at_period_end
    assert "Resume subscription" in client.get(f"/o/{org.slug}/subscription").get_data(as_text=True)
    client.post(f"/o/{org.slug}/subscription/resume")
    assert not _current(org).cancel_at_period_end
    client.post(f"/o/{org.slug}/subscription/cancel")
    sub = _current(org)
    with time_machine.travel(sub.current_period_end + timedelta(minutes=1)):
        services.renew_due()
        db.session.commit()
    ended = db.session.get(Subscription, sub.id)
    assert ended.status == "CANCELED" and ended.ended_at is not None
    assert _current(org).plan.code == "FREE"
    assert "Earlier subscriptions" in client.get(f"/o/{org.slug}/subscription").get_data(as_text=True)


def test_resume_without_cancel_is_refused_with_message(client, ctx):
    _, org = _org(client)
    response = client.post(f"/o/{org.slug}/subscription/resume")
    assert response.status_code == 409 and "Only a subscription set to end" in response.get_data(as_text=True)


def test_trial_becomes_active_when_first_invoice_is_paid(client, ctx):
    from webapp.billing.services import payments

    _, org = _org(client)
    assert client.post(f"/o/{org.slug}/subscription/trial", {"plan": "TEAM_PREMIUM"}).status_code == 303
    sub = _current(org)
    assert sub.status == "TRIALING" and sub.plan.code == "TEAM_PREMIUM"
    assert client.post(f"/o/{org.slug}/subscription/trial", {"plan": "TEAM_PREMIUM"}).status_code == 422
    assert client.post(f"/o/{org.slug}/subscription/pay", {"interval": "MONTHLY"}).status_code == 303
    invoice = _invoices(org)[-1]
    assert invoice.subscription_id == sub.id and invoice.subtotal == 14900
    payments.record_manual_payment(invoice, make_user(staff=True), invoice.amount_due, "BANK_TRANSFER", "ref-1")
    db.session.commit()
    sub = _current(org)
    assert sub.status == "ACTIVE" and sub.plan.code == "TEAM_PREMIUM"


def test_unpaid_trial_expires(client, ctx):
    _, org = _org(client)
    client.post(f"/o/{org.slug}/subscription/trial", {"plan": "TEAM_STANDARD"})
    trial = _current(org)
    with time_machine.travel(trial.trial_end + timedelta(minutes=1)):
        from webapp.subscriptions.jobs import expire_trials

        expire_trials()
    assert db.session.get(Subscription, trial.id).status == "INCOMPLETE_EXPIRED"
    assert _current(org).plan.code == "FREE"


def test_overdue_renewal_makes_subscription_past_due_and_payment_reactivates(ctx):
    from webapp.core.events import emit

    user = make_user()
    org = make_org(user)
    services.change_plan(services.current_subscription(org), plan_by_code("TEAM_STANDARD"), "MONTHLY", user)
    db.session.commit()
    invoice = _invoices(org)[-1]
    emit("invoice.overdue", org=org, invoice_id=invoice.id)
    db.session.commit()
    assert _current(org).status == "PAST_DUE"
    emit("invoice.paid", org=org, invoice_id=invoice.id)
    db.session.commit()
    assert _current(org).status == "ACTIVE"


def test_users_limit_bites_on_invite_with_a_link_to_upgrade(client, ctx):
    _owner, org = _org(client)
    plan = plan_by_code("FREE")
    plan.max_users = 2
    db.session.commit()
    assert client.post(f"/o/{org.slug}/members/invite", {"email": "a@example.com", "role": "MEMBER"}).status_code == 303
    response = client.post(f"/o/{org.slug}/members/invite", {"email": "b@example.com", "role": "MEMBER"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Your plan allows 2 users" in text and f'href="/o/{org.slug}/subscription"' in text


def test_limit_helpers(ctx):
    from webapp.core import limits
    from webapp.core.errors import LimitExceeded
    from webapp.subscriptions.limits import current_usage, plan_limit, usage_provider

    owner = make_user()
    org = make_org(owner)
    assert plan_limit(org, "storage_mb") == 1024 and current_usage(org, "users") == 1
    usage_provider("storage_mb")(lambda o: 1000)
    try:
        limits.check(org, "storage_mb", adding=24)
        with pytest.raises(LimitExceeded) as info:
            limits.check(org, "storage_mb", adding=25)
        assert info.value.limit == "storage_mb" and "storage (MB)" in info.value.message
    finally:
        from webapp.subscriptions.limits import USAGE_PROVIDERS

        USAGE_PROVIDERS.pop("storage_mb")


def test_staff_edit_plans_and_set_enterprise_terms(client, make_client, ctx):
    def make_client_for(user):
        c = make_client()
        c.login(user.email)
        return c

    staff = make_user(staff=True)
    owner = make_user()
    org = make_org(owner)
    client.login(staff.email)
    assert client.get("/admin/plans/").status_code == 200
    plan = plan_by_code("TEAM_STANDARD")
    form = {
        f"p{plan.id}-{k}": v
        for k, v in {
            "name": "Team Standard",
            "description": "x",
            "monthly_price": "55.00",
            "yearly_price": "550",
            "max_users": "12",
            "max_storage_mb": "",
            "max_ai_credits": "1000",
            "max_api_calls": "100000",
            "metered_prices": '{"sms.sent": {"unit_price": 2, "per": 1, "included": 10}}',
        }.items()
    }
    assert client.post(f"/admin/plans/{plan.id}", form).status_code == 303
    db.session.expire_all()
    plan = plan_by_code("TEAM_STANDARD")
    assert plan.monthly_price == 5500 and plan.max_users == 12 and plan.max_storage_mb is None
    bad = dict(form, **{f"p{plan.id}-monthly_price": "abc"})
    assert client.post(f"/admin/plans/{plan.id}", bad).status_code == 422
    response = client.post(
        "/admin/plans/enterprise",
        {"org_slug": org.slug, "monthly_price": "900", "yearly_price": "9000", "interval": "YEARLY", "users": "200"},
    )
    assert response.status_code == 303
    sub = _current(org)
    assert sub.plan.code == "ENTERPRISE" and sub.amount == 900000 and sub.limit("users") == 200
    assert sub.limit("api_calls") is None
    assert make_client_for(make_user()).get("/admin/plans/").status_code == 404
