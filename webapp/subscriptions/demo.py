"""Demo: coupons and promotion codes in the console; Kyoto Creators keeps its trial plan with a code
(its first invoice shows the discount as its own line); Harare Retail has a partner discount from
its next renewal (the business view's MRR is net of it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from webapp.core.models import utcnow
from webapp.demo import step
from webapp.extensions import db
from webapp.orgs.demo import STAFF_EMAIL, demo_org, demo_user
from webapp.subscriptions import coupons, services
from webapp.subscriptions.coupon_models import Coupon, PromotionCode, SubscriptionDiscount

COUPONS: list[tuple[str, dict[str, Any], list[tuple[str, dict[str, Any]]]]] = [
    # name, terms, promotion codes
    (
        "Creators 20",
        {"percent_off_bps": 2000, "duration": "REPEATING", "duration_in_months": 6, "plan_codes": ["TEAM_STANDARD"]},
        [("CREATORS20", {"max_redemptions": 50})],
    ),
    ("Welcome 10 USD", {"amount_off": 1000, "currency": "USD", "duration": "ONCE"}, [("WELCOME10", {})]),
    (
        "Annual partners",
        {"percent_off_bps": 1500, "duration": "FOREVER", "max_redemptions": 10, "days_to_redeem": 90},
        [("PARTNER15", {"days": 30})],
    ),
]


@step(order=45)
def coupons_and_a_discounted_subscription() -> None:
    staff = demo_user(STAFF_EMAIL, "Sam Staff", staff=True)
    for name, terms, codes in COUPONS:
        coupon = db.session.scalar(select(Coupon).where(Coupon.name == name))
        if coupon is None:
            terms = dict(terms)
            days = terms.pop("days_to_redeem", None)
            coupon = coupons.create_coupon(
                staff, name=name, redeem_by=utcnow() + timedelta(days=days) if days else None, **terms
            )
        for code, limits in codes:
            if db.session.scalar(select(PromotionCode.id).where(PromotionCode.code == code)) is None:
                days = limits.get("days")
                coupons.create_promotion_code(
                    coupon,
                    staff,
                    code,
                    max_redemptions=limits.get("max_redemptions"),
                    expires_at=utcnow() + timedelta(days=days) if days else None,
                )
    kyoto = _redeemable("kyoto-creators")
    if kyoto is not None and kyoto[1].plan.code == "TEAM_STANDARD":
        org, sub, owner = kyoto
        coupons.redeem_promotion_code(org, sub, "CREATORS20", owner)
        if sub.status == "TRIALING":
            services.pay_to_keep_trial_plan(sub, owner, "MONTHLY")  # its first invoice carries the discount line
    harare = _redeemable("harare-retail")
    if harare is not None and not harare[1].plan.is_free:
        org, sub, owner = harare
        coupons.redeem_promotion_code(org, sub, "PARTNER15", owner)  # from its next renewal; MRR shows it now


def _redeemable(slug: str):
    """(organization, current subscription, owner) when the organization has no discount yet."""
    org = demo_org(slug)
    if org is None:
        return None
    if db.session.scalar(select(SubscriptionDiscount.id).where(SubscriptionDiscount.organization_id == org.id)):
        return None
    return org, services.current_subscription(org), demo_user(f"owner@{slug}.example", "")
