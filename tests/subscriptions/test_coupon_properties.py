"""Coupon arithmetic as properties: a percent discount is whole cents rounded half up, never more
than what it discounts, and the invoice's lines add up to its subtotal, which is never negative and
is what the proration preview said, for any price, percentage and day of the upgrade."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_org, make_user
from tests.strategies import cents
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.subscriptions import coupons, services
from webapp.subscriptions.catalog import plan_by_code

DB_EXAMPLES = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(max_examples=500)
@given(amount=cents(0, 10**11), bps=st.integers(1, 10000))
def test_percent_of_is_whole_cents_rounded_half_up_within_the_amount(amount, bps):
    off = coupons.percent_of(amount, bps)
    assert isinstance(off, int) and 0 <= off <= amount
    exact = amount * bps / 10000
    assert abs(off - exact) <= 0.5  # nearest cent
    if (amount * bps) % 10000 * 2 == 10000:
        assert off > exact  # a half cent goes up


@given(text=st.decimals(min_value="0.01", max_value="100", places=2))
def test_percent_text_is_basis_points(text):
    assert coupons.parse_percent(f"{text}%") == int(text * 100)


@DB_EXAMPLES
@given(
    bps=st.integers(1, 10000),
    standard=cents(100, 10**7),
    premium_extra=cents(100, 10**7),
    day=st.integers(0, 27),
    duration=st.sampled_from(["ONCE", "REPEATING", "FOREVER"]),
)
def test_upgrade_and_renewal_invoices_with_a_percent_coupon_add_up(ctx, bps, standard, premium_extra, day, duration):
    owner = make_user()
    org = make_org(owner)
    start = utcnow().replace(microsecond=0)
    savepoint = db.session.begin_nested()
    try:
        plan_by_code("TEAM_STANDARD").monthly_price = standard
        plan_by_code("TEAM_PREMIUM").monthly_price = standard + premium_extra
        coupon = coupons.create_coupon(
            None,
            name="Property",
            percent_off_bps=bps,
            duration=duration,
            duration_in_months=2 if duration == "REPEATING" else None,
        )
        coupons.create_promotion_code(coupon, None, "PROPERTY")
        with time_machine.travel(start, tick=False):
            sub = services.current_subscription(org)
            services.change_plan(sub, plan_by_code("TEAM_STANDARD"), "MONTHLY", owner)
            coupons.redeem_promotion_code(org, sub, "property", owner)
        with time_machine.travel(start + timedelta(days=day), tick=False):
            preview = services.preview_change(sub, plan_by_code("TEAM_PREMIUM"), "MONTHLY")
            services.change_plan(sub, plan_by_code("TEAM_PREMIUM"), "MONTHLY", owner)
        invoices = _invoices(org)
        upgrade = invoices[-1]
        assert upgrade.subtotal == preview.total >= 0
        _assert_consistent(upgrade, coupons.percent_of(preview.gross, bps))
        with time_machine.travel(sub.current_period_end + timedelta(minutes=1), tick=False):
            services.renew_due()
        renewal = _invoices(org)[-1]
        expected = 0 if duration == "ONCE" else coupons.percent_of(standard + premium_extra, bps)
        _assert_consistent(renewal, expected)
        assert renewal.subtotal == standard + premium_extra - expected
    finally:
        savepoint.rollback()


def _invoices(org):
    from sqlalchemy import select

    from webapp.billing.models import Invoice

    return list(db.session.scalars(select(Invoice).where(Invoice.organization_id == org.id).order_by(Invoice.id)))


def _assert_consistent(invoice, discount):
    totals = [line.total for line in invoice.lines]
    assert all(isinstance(t, int) for t in totals)
    assert sum(totals) == invoice.subtotal >= 0 and invoice.total >= 0
    negative = [t for t in totals if t < 0]
    assert negative == ([-discount] if discount else [])
    for line in invoice.lines:
        assert line.total == line.quantity * line.unit_price
