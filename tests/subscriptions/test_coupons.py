"""Coupons and promotion codes: staff console, redemption and its refusals, the discount on the
proration preview and on invoices (its own negative line), each duration across renewals, a fixed
amount capped at the line, the race for the last redemption, and MRR after discounts."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.factories import add_member, make_org, make_user
from webapp.audit.models import AuditEntry as AuditLog
from webapp.core.errors import DomainError
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.subscriptions import coupons, services
from webapp.subscriptions.catalog import plan_by_code
from webapp.subscriptions.coupon_models import Coupon, PromotionCode, SubscriptionDiscount
from webapp.subscriptions.models import Subscription
from webapp.subscriptions.periods import add_months

JSON = {"Accept": "application/json"}
MINUS = "\u2212"  # how the page writes a discount


def _org(client, role="OWNER"):
    owner = make_user()
    org = make_org(owner)
    user = owner
    if role != "OWNER":
        user = make_user()
        add_member(org, user, role)
    client.login(user.email)
    return user, org


def _current(org) -> Subscription:
    db.session.expire_all()
    return db.session.scalar(
        select(Subscription).where(Subscription.organization_id == org.id, Subscription.ended_at.is_(None))
    )


def _invoices(org):
    from webapp.billing.models import Invoice

    db.session.expire_all()
    return list(db.session.scalars(select(Invoice).where(Invoice.organization_id == org.id).order_by(Invoice.id)))


def _coupon(code="SAVE25", **terms) -> PromotionCode:
    terms.setdefault("name", f"Coupon {code}")
    if "amount_off" not in terms:
        terms.setdefault("percent_off_bps", 2500)
    code_limits = {k: terms.pop(k) for k in ("code_max", "code_expires") if k in terms}
    coupon = coupons.create_coupon(None, **terms)
    promo = coupons.create_promotion_code(
        coupon, None, code, max_redemptions=code_limits.get("code_max"), expires_at=code_limits.get("code_expires")
    )
    db.session.commit()
    return promo


def _on_plan(org, user, code="TEAM_STANDARD", interval="MONTHLY"):
    services.change_plan(services.current_subscription(org), plan_by_code(code), interval, user)
    db.session.commit()
    return _current(org)


def _apply(client, org, code, **kw):
    return client.post(f"/o/{org.slug}/subscription/promotion-code", {"code": code}, **kw)


def _renew_at(moment):
    with time_machine.travel(moment, tick=False):
        services.renew_due()
        db.session.commit()


def _discount_lines(invoice):
    return [line for line in invoice.lines if line.total < 0]


# ---------------------------------------------------------------- staff console


def test_staff_create_list_and_deactivate_coupons_and_codes_audited(client, make_client, ctx):
    staff = make_user(staff=True)
    client.login(staff.email)
    page = client.get("/admin/coupons/")
    assert page.status_code == 200 and "No coupons yet" in page.get_data(as_text=True)
    response = client.post(
        "/admin/coupons/",
        {
            "name": "Launch",
            "percent_off": "12.5",
            "currency": "USD",
            "duration": "REPEATING",
            "duration_in_months": "3",
            "max_redemptions": "100",
            "plans": ["TEAM_STANDARD", "TEAM_PREMIUM"],
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    coupon = db.session.scalar(select(Coupon).where(Coupon.name == "Launch"))
    assert coupon.percent_off_bps == 1250 and coupon.duration_in_months == 3
    assert coupon.plan_codes == ["TEAM_STANDARD", "TEAM_PREMIUM"]
    response = client.post(
        "/admin/coupons/codes",
        {"coupon_id": str(coupon.id), "code": "launch-2026", "code_max_redemptions": "5"},
    )
    assert response.status_code == 303
    promo = db.session.scalar(select(PromotionCode).where(PromotionCode.coupon_id == coupon.id))
    assert promo.code == "LAUNCH-2026" and promo.max_redemptions == 5
    # the same code in another case is the same code
    again = client.post("/admin/coupons/codes", {"coupon_id": str(coupon.id), "code": "Launch-2026"})
    assert again.status_code == 422 and "The code LAUNCH-2026 is taken" in again.get_data(as_text=True)
    listed = client.get("/admin/coupons/").get_data(as_text=True)
    assert "12.5% off for 3 months" in listed and "LAUNCH-2026" in listed and "Team Standard, Team Premium" in listed

    assert client.post(f"/admin/coupons/codes/{promo.id}/deactivate").status_code == 303
    assert client.post(f"/admin/coupons/{coupon.id}/deactivate").status_code == 303
    db.session.expire_all()
    assert not db.session.get(PromotionCode, promo.id).active and not db.session.get(Coupon, coupon.id).active
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.actor_id == staff.id)))
    assert {"coupon.created", "promotion_code.created", "promotion_code.deactivated", "coupon.deactivated"} <= actions
    twice = client.post(f"/admin/coupons/{coupon.id}/deactivate")
    assert twice.status_code == 303 and "already inactive" in client.get("/admin/coupons/").get_data(as_text=True)

    customer = make_client()
    customer.login(make_user().email)
    assert customer.get("/admin/coupons/").status_code == 404
    assert customer.post("/admin/coupons/", {"name": "Mine", "percent_off": "100"}).status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"percent_off": "10", "amount_off": "5.00"}, "either a percentage or a fixed amount"),
        ({}, "either a percentage or a fixed amount"),
        ({"percent_off": "101"}, "at most 100"),
        ({"percent_off": "1.234"}, "at most two decimals"),
        ({"percent_off": "ten"}, "as a number"),
        ({"percent_off": "10", "duration": "REPEATING"}, "1 to 120 months"),
        ({"amount_off": "5.00", "currency": "12"}, "three-letter code"),
        ({"amount_off": "-5"}, "cannot be negative"),
        ({"percent_off": "10", "redeem_by": "2001-01-01"}, "in the past"),
        ({"amount_off": "5.00", "currency": "EUR", "plans": ["TEAM_STANDARD"]}, "priced in USD"),
    ],
)
def test_staff_coupon_form_refusals_are_on_the_form(client, ctx, fields, message):
    client.login(make_user(staff=True).email)
    data = {"name": "Bad", "duration": "ONCE", "currency": "USD", **fields}
    response = client.post("/admin/coupons/", data)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Coupon.id))) == 0


# ---------------------------------------------------------------- customers apply a code


def test_owner_and_billing_apply_a_code_member_403_other_org_404(client, make_client, ctx):
    _coupon("WELCOME", duration="FOREVER")
    _, org = _org(client, "BILLING")
    response = _apply(client, org, " welcome ")
    assert response.status_code == 303
    page = client.get(f"/o/{org.slug}/subscription").get_data(as_text=True)
    assert 'id="discount"' in page and "WELCOME" in page and "25% off forever" in page
    discount = db.session.scalar(select(SubscriptionDiscount).where(SubscriptionDiscount.organization_id == org.id))
    assert discount.subscription_id == _current(org).id and discount.end is None
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "subscription.discount_applied"))
    assert entry.organization_id == org.id

    member = make_user()
    add_member(org, member, "MEMBER")
    as_member = make_client()
    as_member.login(member.email)
    assert _apply(as_member, org, "WELCOME").status_code == 403
    stranger = make_client()
    stranger.login(make_user().email)
    assert _apply(stranger, org, "WELCOME").status_code == 404


def _code_of(response):
    assert response.is_json, response.get_data(as_text=True)[:500]
    return response.get_json()["error"]["code"], response.get_json()["error"]["message"]


def test_refusals_have_clear_messages_and_stable_codes(client, ctx):
    user, org = _org(client)
    now = utcnow()
    _coupon("SOON", code_expires=now + timedelta(days=1))
    _coupon("FEW", max_redemptions=1)
    _coupon("PREMIUMONLY", plan_codes=["TEAM_PREMIUM"])
    _coupon("EUROS", amount_off=1000, currency="EUR")
    _coupon("FIRST")
    # someone else used the last FEW
    other_owner = make_user()
    other = make_org(other_owner)
    coupons.redeem_promotion_code(other, services.current_subscription(other), "FEW", other_owner)
    db.session.commit()

    page = _apply(client, org, "NOPE")
    assert page.status_code == 422 and "There is no promotion code NOPE." in page.get_data(as_text=True)
    assert _code_of(_apply(client, org, "NOPE", headers=JSON)) == (
        "promotion_code_unknown",
        "There is no promotion code NOPE.",
    )
    with time_machine.travel(now + timedelta(days=2)):
        assert _code_of(_apply(client, org, "soon", headers=JSON))[0] == "promotion_code_expired"
    assert _code_of(_apply(client, org, "FEW", headers=JSON)) == (
        "promotion_code_exhausted",
        "The code FEW has been used up.",
    )
    assert _code_of(_apply(client, org, "PREMIUMONLY", headers=JSON)) == (
        "promotion_code_plan",
        "The code PREMIUMONLY applies only to Team Premium.",
    )
    code, message = _code_of(_apply(client, org, "EUROS", headers=JSON))
    assert code == "promotion_code_currency" and "takes off EUR" in message and "billed in USD" in message
    assert _apply(client, org, "FIRST").status_code == 303
    assert _code_of(_apply(client, org, "SAVE25-NOT", headers=JSON))[0] == "promotion_code_unknown"
    _coupon("SECOND")
    assert _code_of(_apply(client, org, "SECOND", headers=JSON))[0] == "discount_exists"

    # once per organization, even on a later subscription
    _on_plan(org, user, "INDIVIDUAL_PRO")
    sub = _current(org)
    services.cancel_at_period_end(sub, user)
    db.session.commit()
    _renew_at(sub.current_period_end + timedelta(minutes=1))
    assert _current(org).plan.code == "FREE"
    promo = db.session.scalar(select(PromotionCode).where(PromotionCode.code == "FIRST"))
    coupons.create_promotion_code(promo.coupon, None, "FIRST-AGAIN")
    db.session.commit()
    assert _code_of(_apply(client, org, "first-again", headers=JSON)) == (
        "promotion_code_redeemed",
        "This organization has already redeemed this offer.",
    )
    # inactive codes and coupons
    coupons.deactivate_promotion_code(
        db.session.scalar(select(PromotionCode).where(PromotionCode.code == "SECOND")), None
    )
    db.session.commit()
    assert _code_of(_apply(client, org, "SECOND", headers=JSON))[0] == "promotion_code_inactive"
    assert (
        db.session.scalar(
            select(func.count(SubscriptionDiscount.id)).where(SubscriptionDiscount.organization_id == org.id)
        )
        == 1
    )


def test_double_submit_redeems_once(client, ctx):
    _coupon("TWICE")
    _, org = _org(client)
    assert _apply(client, org, "TWICE").status_code == 303
    assert _apply(client, org, "TWICE").status_code == 422
    promo = db.session.scalar(select(PromotionCode).where(PromotionCode.code == "TWICE"))
    db.session.refresh(promo)
    assert promo.times_redeemed == 1 and promo.coupon.times_redeemed == 1


@pytest.mark.postgres
def test_two_tabs_racing_for_the_last_redemption_exactly_one_wins(app, ctx):
    promo = _coupon("LAST", max_redemptions=3)
    promo.coupon.times_redeemed = 2  # two already taken: one left
    db.session.commit()
    owners = [make_user() for _ in range(4)]
    org_ids = [make_org(owner).id for owner in owners]
    db.session.commit()
    barrier = threading.Barrier(len(org_ids))
    won, lost = [], []

    def tab(org_id):
        with app.app_context():
            from webapp.orgs.models import Organization

            org = db.session.get(Organization, org_id)
            sub = services.current_subscription(org, lock=True)
            db.session.commit()
            barrier.wait(timeout=30)
            try:
                coupons.redeem_promotion_code(org, services.current_subscription(org, lock=True), "LAST", None)
                db.session.commit()
                won.append(org_id)
            except DomainError as error:
                db.session.rollback()
                lost.append(error.code)
            finally:
                db.session.remove()
            assert sub is not None

    threads = [threading.Thread(target=tab, args=(org_id,)) for org_id in org_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert len(won) == 1 and lost == ["promotion_code_exhausted"] * 3
    db.session.expire_all()
    coupon = db.session.get(Coupon, promo.coupon_id)
    assert coupon.times_redeemed == 3
    assert db.session.scalar(select(func.count(SubscriptionDiscount.id))) == 1


# ---------------------------------------------------------------- the maths across renewals


def test_once_discounts_the_next_invoice_only(client, ctx):
    _coupon("ONCE50", percent_off_bps=5000, duration="ONCE")
    _, org = _org(client)
    assert _apply(client, org, "ONCE50").status_code == 303
    preview = client.get(f"/o/{org.slug}/subscription/preview?plan=TEAM_STANDARD&interval=MONTHLY")
    text = preview.get_data(as_text=True)
    assert f"Discount ONCE50: 50% off once: <strong>{MINUS}USD 24.50</strong>" in text
    assert '<strong class="preview-total">USD 24.50</strong>' in text
    assert (
        client.post(f"/o/{org.slug}/subscription/change", {"plan": "TEAM_STANDARD", "interval": "MONTHLY"}).status_code
        == 303
    )
    first = _invoices(org)[-1]
    assert [(line.description, line.total) for line in _discount_lines(first)] == [
        ("Discount ONCE50: 50% off once", -2450)
    ]
    assert first.subtotal == 2450 and first.status == "ISSUED"
    shown = client.get(f"/o/{org.slug}/billing/invoices/{first.id}")
    assert shown.status_code == 200 and "Discount ONCE50: 50% off once" in shown.get_data(as_text=True)
    sub = _current(org)
    _renew_at(sub.current_period_end + timedelta(minutes=1))
    renewal = _invoices(org)[-1]
    assert renewal.id != first.id and renewal.subtotal == 4900 and not _discount_lines(renewal)
    discount = db.session.scalar(select(SubscriptionDiscount).where(SubscriptionDiscount.organization_id == org.id))
    assert discount.ended_at is not None and discount.invoices_discounted == 1
    assert 'id="discount"' not in client.get(f"/o/{org.slug}/subscription").get_data(as_text=True)


def test_repeating_discounts_renewals_for_its_months_then_stops(client, ctx):
    _coupon("THREE", percent_off_bps=1000, duration="REPEATING", duration_in_months=3)
    user, org = _org(client)
    start = utcnow().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        sub = _on_plan(org, user)  # invoice 1 (before the code): full price
        assert _apply(client, org, "THREE").status_code == 303
    discount = db.session.scalar(select(SubscriptionDiscount).where(SubscriptionDiscount.organization_id == org.id))
    assert discount.start == start and discount.end == add_months(start, 3)
    subtotals = []
    for _ in range(4):
        sub = _current(org)
        _renew_at(sub.current_period_end + timedelta(minutes=1))
        invoice = _invoices(org)[-1]
        subtotals.append((invoice.subtotal, [line.total for line in _discount_lines(invoice)]))
    # renewals at months 1 and 2 fall inside the three months; months 3 and 4 do not
    assert subtotals == [(4410, [-490]), (4410, [-490]), (4900, []), (4900, [])]
    assert coupons.live_discount(_current(org), discount.end - timedelta(seconds=1)) is not None
    assert coupons.live_discount(_current(org), discount.end) is None


def test_forever_discount_survives_a_prorated_upgrade_and_every_renewal(client, ctx):
    _coupon("ALWAYS", percent_off_bps=2000, duration="FOREVER")
    user, org = _org(client)
    start = utcnow().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        _on_plan(org, user)
        assert _apply(client, org, "ALWAYS").status_code == 303
    sub = _current(org)
    period_days = (sub.current_period_end.date() - sub.current_period_start.date()).days
    with time_machine.travel(start + timedelta(days=10), tick=False):
        text = client.get(f"/o/{org.slug}/subscription/preview?plan=TEAM_PREMIUM&interval=MONTHLY").get_data(
            as_text=True
        )
        days_left = period_days - 10
        gross = (14900 * days_left * 2 + period_days) // (period_days * 2) - (4900 * days_left * 2 + period_days) // (
            period_days * 2
        )
        off = (gross * 2000 * 2 + 10000) // 20000
        assert f"{MINUS}USD {off // 100}.{off % 100:02d}" in text
        due = gross - off
        assert f'<strong class="preview-total">USD {due // 100}.{due % 100:02d}</strong>' in text
        client.post(f"/o/{org.slug}/subscription/change", {"plan": "TEAM_PREMIUM", "interval": "MONTHLY"})
    upgrade = _invoices(org)[-1]
    assert upgrade.subtotal == due and [line.total for line in upgrade.lines] == [gross, -off]
    for _ in range(2):
        _renew_at(_current(org).current_period_end + timedelta(minutes=1))
        renewal = _invoices(org)[-1]
        assert [line.total for line in renewal.lines] == [14900, -2980] and renewal.subtotal == 11920


def test_scheduled_downgrade_preview_shows_the_renewal_after_discount(client, ctx):
    _coupon("DOWN", percent_off_bps=1000, duration="FOREVER")
    user, org = _org(client)
    _on_plan(org, user, "TEAM_PREMIUM")
    assert _apply(client, org, "DOWN").status_code == 303
    text = client.get(f"/o/{org.slug}/subscription/preview?plan=TEAM_STANDARD&interval=MONTHLY").get_data(as_text=True)
    assert "Nothing is charged now" in text and "USD 44.10 on the first renewal after your discount" in text


def test_fixed_amount_larger_than_the_line_is_capped_and_says_so(client, ctx):
    _coupon("BIG", amount_off=10000, currency="USD", duration="FOREVER")
    _, org = _org(client)
    assert _apply(client, org, "BIG").status_code == 303
    text = client.get(f"/o/{org.slug}/subscription/preview?plan=TEAM_STANDARD&interval=MONTHLY").get_data(as_text=True)
    assert "capped at the USD 49.00 charged" in text and '<strong class="preview-total">USD 0.00</strong>' in text
    client.post(f"/o/{org.slug}/subscription/change", {"plan": "TEAM_STANDARD", "interval": "MONTHLY"})
    invoice = _invoices(org)[-1]
    [line] = _discount_lines(invoice)
    assert line.total == -4900 and "USD 100.00 off forever (capped at the USD 49.00 charged)" in line.description
    assert invoice.subtotal == 0 and invoice.total == 0 and invoice.amount_due == 0


def test_fixed_amount_on_a_yearly_plan_is_per_invoice(client, ctx):
    _coupon("TENOFF", amount_off=1000, currency="USD", duration="FOREVER")
    user, org = _org(client)
    _apply(client, org, "TENOFF")
    _on_plan(org, user, "TEAM_STANDARD", "YEARLY")
    invoice = _invoices(org)[-1]
    assert [line.total for line in invoice.lines] == [49000, -1000]


def test_discount_line_claims_no_period_and_billed_once_holds(client, ctx):
    from webapp.billing.models import BilledPeriod
    from webapp.subscriptions import billing_bridge

    _coupon("CLAIM", percent_off_bps=3000, duration="FOREVER")
    user, org = _org(client)
    _apply(client, org, "CLAIM")
    sub = _on_plan(org, user)
    invoice = _invoices(org)[-1]
    periods = db.session.scalars(select(BilledPeriod).where(BilledPeriod.invoice_id == invoice.id)).all()
    positive = [line for line in invoice.lines if line.total > 0]
    assert [p.line_id for p in periods] == [positive[0].id]
    # the same period again is refused as already billed: no second invoice, no second discount
    again = billing_bridge.invoice_subscription(
        sub,
        [("Team Standard plan, monthly", 1, 4900)],
        period_start=sub.current_period_start,
        period_end=sub.current_period_end,
    )
    db.session.commit()
    assert again is None and len(_invoices(org)) == 1
    discount = db.session.scalar(select(SubscriptionDiscount).where(SubscriptionDiscount.organization_id == org.id))
    assert discount.invoices_discounted == 1


# ---------------------------------------------------------------- MRR after discounts


def test_business_view_mrr_after_discounts(client, make_client, ctx):
    from webapp.admin.figures import business_figures

    db.session.execute(Subscription.__table__.update().values(currency="XTS"))  # other tests' rows stay out
    db.session.commit()
    _coupon("MRR25", percent_off_bps=2500, duration="FOREVER")
    _coupon("MRRONCE", percent_off_bps=5000, duration="ONCE")
    _coupon("MRRFIX", amount_off=1200, currency="USD", duration="REPEATING", duration_in_months=12)
    plain_owner, forever_owner, once_owner, fixed_owner = (make_user() for _ in range(4))
    plain, forever, once, fixed = (make_org(o) for o in (plain_owner, forever_owner, once_owner, fixed_owner))
    _on_plan(plain, plain_owner)  # 4,900
    _on_plan(forever, forever_owner)  # 4,900 - 25% = 3,675
    coupons.redeem_promotion_code(forever, services.current_subscription(forever), "MRR25", forever_owner)
    _on_plan(fixed, fixed_owner, "TEAM_STANDARD", "YEARLY")  # 49,000/12 = 4,083.33 - 1,200/12 = 100
    coupons.redeem_promotion_code(fixed, services.current_subscription(fixed), "MRRFIX", fixed_owner)
    coupons.redeem_promotion_code(once, services.current_subscription(once), "MRRONCE", once_owner)
    db.session.commit()
    _on_plan(once, once_owner)  # 4,900: a once discount is one invoice, not recurring revenue
    fig = business_figures()
    assert fig.mrr_discounts == 1225 + 100
    assert fig.mrr == 4900 + 4900 + 4083 + 4900 - 1325
    staff = make_client()
    staff.login(make_user(staff=True).email)
    card = staff.get("/admin/").get_data(as_text=True).split('id="fig-mrr"')[1].split("</article>")[0]
    assert f"USD {fig.mrr // 100:,}.{fig.mrr % 100:02d}" in card and "after USD 13.25 of discounts" in card
