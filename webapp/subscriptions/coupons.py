"""Coupon rules: staff make coupons and promotion codes; customers redeem a code onto their
subscription; invoices of that subscription take the discount off as its own line.

One rule computes a discount (``discount_for``): the plan-change preview and every subscription
invoice (first invoice after a trial, a prorated upgrade, a renewal) ask it, so what the preview
shows is what the invoice charges. Services flush but never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.audit import record
from webapp.core.errors import Conflict, DomainError
from webapp.core.events import emit
from webapp.core.models import utcnow
from webapp.core.money import format_amount
from webapp.extensions import db
from webapp.subscriptions.coupon_models import (
    DURATIONS,
    FOREVER,
    ONCE,
    REPEATING,
    Coupon,
    PromotionCode,
    SubscriptionDiscount,
)
from webapp.subscriptions.models import Plan, Subscription
from webapp.subscriptions.periods import add_months

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,39}$")
MAX_AMOUNT_OFF = 100_000_000  # one million in the currency's major unit


# ---------------------------------------------------------------- arithmetic


def parse_percent(text: str) -> int:
    """'25', '25%', '12.5' or '0.01' percent as basis points (1..10000)."""
    raw = (text or "").strip().removesuffix("%").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError("Write the percentage as a number, such as 25 or 12.5.") from None
    if not value.is_finite():
        raise ValueError("Write the percentage as a number, such as 25 or 12.5.")
    bps = value * 100
    if bps != bps.to_integral_value():
        raise ValueError("A percentage has at most two decimals (basis points).")
    if not 1 <= bps <= 10000:
        raise ValueError("A percentage is more than 0 and at most 100.")
    return int(bps)


def percent_of(amount: int, bps: int) -> int:
    """``bps`` basis points of ``amount`` cents, rounded half up, never more than ``amount``."""
    if amount <= 0:
        return 0
    return min(amount, (amount * bps * 2 + 10000) // 20000)


def describe_coupon_for_reader(coupon: Coupon) -> str:
    """The coupon's terms on a page, in the reader's language (``describe_coupon`` is the English one
    stored on invoice lines and in the audit log)."""
    from flask_babel import gettext as _

    from webapp.core.i18n import is_english

    if is_english():
        return describe_coupon(coupon)
    bps = coupon.percent_off_bps
    if bps is not None:  # coupon.is_percent
        off = f"{bps // 100}%" if bps % 100 == 0 else f"{bps / 100:.2f}".rstrip("0") + "%"
    else:
        from webapp.core.templating import money

        off = money(coupon.amount_off, coupon.currency or "")  # a fixed amount always has one
    if coupon.duration == ONCE:
        return _("%(off)s off once", off=off)
    if coupon.duration == REPEATING:
        return _("%(off)s off for %(months)s months", off=off, months=coupon.duration_in_months)
    return _("%(off)s off forever", off=off)


def describe_coupon(coupon: Coupon) -> str:
    bps = coupon.percent_off_bps
    if bps is not None:  # coupon.is_percent
        off = f"{bps // 100}%" if bps % 100 == 0 else f"{bps / 100:.2f}".rstrip("0") + "%"
    else:
        off = format_amount(coupon.amount_off, coupon.currency or "")  # a fixed amount always has one
    if coupon.duration == ONCE:
        how_long = "once"
    elif coupon.duration == REPEATING:
        months = coupon.duration_in_months
        how_long = f"for {months} month{'s' if months != 1 else ''}"
    else:
        how_long = "forever"
    return f"{off} off {how_long}"


@dataclass
class AppliedDiscount:
    discount: SubscriptionDiscount
    amount: int  # cents taken off, 0 <= amount <= the amount it applies to
    description: str
    capped: bool = False


def discount_for(sub: Subscription, amount: int, at: datetime, plan: Plan | None = None) -> AppliedDiscount | None:
    """What ``sub``'s discount takes off ``amount`` cents billed from ``at`` on ``plan`` (default: the
    subscription's), or None. A fixed amount larger than ``amount`` is capped at it, and says so."""
    if amount <= 0 or sub.id is None:
        return None
    discount = live_discount(sub, at)
    if discount is None:
        return None
    coupon = discount.coupon
    plan = plan or sub.plan
    if not coupon.applies_to(plan):
        return None
    label = discount.promotion_code.code if discount.promotion_code else coupon.name
    if coupon.percent_off_bps is not None:  # coupon.is_percent
        off = percent_of(amount, coupon.percent_off_bps)
        return AppliedDiscount(discount, off, f"Discount {label}: {describe_coupon(coupon)}") if off else None
    if (coupon.currency or "").upper() != (plan.currency or sub.currency or "").upper():
        return None
    if coupon.amount_off is None:  # neither a percentage nor an amount: a coupon staff could not have made
        raise ValueError(f"coupon {coupon.id} takes nothing off")
    off = min(coupon.amount_off, amount)
    capped = off < coupon.amount_off
    text = f"Discount {label}: {describe_coupon(coupon)}"
    if capped:
        text += f" (capped at the {format_amount(amount, sub.currency)} charged)"
    return AppliedDiscount(discount, off, text, capped)


def used_on_invoice(applied: AppliedDiscount, now: datetime | None = None) -> None:
    """The discount went on an invoice: a ONCE discount is used up."""
    discount = applied.discount
    discount.invoices_discounted += 1
    if discount.coupon.duration == ONCE:
        discount.ended_at = now or utcnow()
    db.session.flush()


# ---------------------------------------------------------------- reading


def live_discount(sub: Subscription, at: datetime | None = None) -> SubscriptionDiscount | None:
    """The subscription's discount in force at ``at`` (a repeating one past its end is not)."""
    if sub.id is None:
        return None
    at = at or utcnow()
    discount = db.session.scalar(
        select(SubscriptionDiscount).where(
            SubscriptionDiscount.subscription_id == sub.id, SubscriptionDiscount.ended_at.is_(None)
        )
    )
    return discount if discount is not None and discount.live_at(at) else None


def coupons() -> list[Coupon]:
    return list(db.session.scalars(select(Coupon).order_by(Coupon.active.desc(), Coupon.id.desc())))


def promotion_codes() -> list[PromotionCode]:
    return list(
        db.session.scalars(select(PromotionCode).order_by(PromotionCode.active.desc(), PromotionCode.id.desc()))
    )


def normalize_code(text: str) -> str:
    return (text or "").strip().upper()


# ---------------------------------------------------------------- staff


def create_coupon(
    actor,
    *,
    name: str,
    percent_off_bps: int | None = None,
    amount_off: int | None = None,
    currency: str | None = None,
    duration: str = ONCE,
    duration_in_months: int | None = None,
    max_redemptions: int | None = None,
    redeem_by: datetime | None = None,
    plan_codes=(),
) -> Coupon:
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the coupon.", field="name", code="coupon_name_missing")
    if (percent_off_bps is None) == (amount_off is None):
        raise DomainError(
            "Give either a percentage or a fixed amount off, not both.", field="percent_off", code="coupon_kind"
        )
    if percent_off_bps is not None and not 1 <= percent_off_bps <= 10000:
        raise DomainError("A percentage is more than 0 and at most 100.", field="percent_off", code="coupon_percent")
    if amount_off is not None:
        if not isinstance(amount_off, int) or not 0 < amount_off <= MAX_AMOUNT_OFF:
            raise DomainError("The amount off is more than zero.", field="amount_off", code="coupon_amount")
        currency = (currency or "").strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise DomainError(
                "A fixed amount needs its currency (a three-letter code).", field="currency", code="coupon_currency"
            )
    else:
        currency = None
    if duration not in DURATIONS:
        raise DomainError("Choose once, repeating or forever.", field="duration", code="coupon_duration")
    if duration == REPEATING:
        if not isinstance(duration_in_months, int) or not 1 <= duration_in_months <= 120:
            raise DomainError(
                "A repeating coupon lasts 1 to 120 months.", field="duration_in_months", code="coupon_months"
            )
    else:
        duration_in_months = None
    if max_redemptions is not None and max_redemptions < 1:
        raise DomainError(
            "Allow at least one redemption, or leave it empty.", field="max_redemptions", code="coupon_limit"
        )
    if redeem_by is not None and redeem_by <= utcnow():
        raise DomainError("The last day to redeem is in the past.", field="redeem_by", code="coupon_redeem_by")
    plans = []
    for code in plan_codes or ():
        plan = db.session.scalar(select(Plan).where(Plan.code == code))
        if plan is None:
            raise DomainError(f"There is no plan {code}.", field="plans", code="coupon_plan_unknown")
        if currency and plan.currency != currency:
            raise DomainError(
                f"{plan.name} is priced in {plan.currency}; this coupon takes off {currency}.",
                field="plans",
                code="coupon_plan_currency",
            )
        plans.append(plan)
    coupon = Coupon(
        name=name[:80],
        percent_off_bps=percent_off_bps,
        amount_off=amount_off,
        currency=currency,
        duration=duration,
        duration_in_months=duration_in_months,
        max_redemptions=max_redemptions,
        redeem_by=redeem_by,
        plans=plans,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(coupon)
    db.session.flush()
    record(
        actor,
        "coupon.created",
        coupon,
        {
            "name": coupon.name,
            "terms": describe_coupon(coupon),
            "max_redemptions": max_redemptions,
            "redeem_by": redeem_by.isoformat() if redeem_by else None,
            "plans": coupon.plan_codes,
        },
    )
    return coupon


def deactivate_coupon(coupon: Coupon, actor) -> Coupon:
    """No new redemptions of the coupon or any of its codes; discounts already applied run their course."""
    if not coupon.active:
        raise Conflict("This coupon is already inactive.", code="coupon_inactive")
    coupon.active, coupon.deactivated_at = False, utcnow()
    record(actor, "coupon.deactivated", coupon, {"name": coupon.name})
    return coupon


def create_promotion_code(
    coupon: Coupon, actor, code: str, *, max_redemptions: int | None = None, expires_at: datetime | None = None
) -> PromotionCode:
    code = normalize_code(code)
    if not CODE_PATTERN.match(code):
        raise DomainError(
            "A code is 3 to 40 letters, digits, dashes or underscores.", field="code", code="promotion_code_format"
        )
    if not coupon.active:
        raise Conflict("This coupon is inactive; codes cannot be added to it.", field="coupon", code="coupon_inactive")
    if max_redemptions is not None and max_redemptions < 1:
        raise DomainError(
            "Allow at least one redemption, or leave it empty.", field="max_redemptions", code="coupon_limit"
        )
    if expires_at is not None and expires_at <= utcnow():
        raise DomainError("The expiry is in the past.", field="expires_at", code="promotion_code_expiry")
    taken = Conflict(f"The code {code} is taken.", field="code", code="promotion_code_taken")
    if db.session.scalar(select(PromotionCode.id).where(PromotionCode.code == code)) is not None:
        raise taken
    promo = PromotionCode(
        coupon_id=coupon.id,
        coupon=coupon,
        code=code,
        max_redemptions=max_redemptions,
        expires_at=expires_at,
        created_by_id=getattr(actor, "id", None),
    )
    try:
        with db.session.begin_nested():
            db.session.add(promo)
            db.session.flush()
    except IntegrityError:  # the same code made at the same moment
        raise taken from None
    record(
        actor,
        "promotion_code.created",
        promo,
        {"code": code, "coupon_id": coupon.id, "max_redemptions": max_redemptions},
    )
    return promo


def deactivate_promotion_code(promo: PromotionCode, actor) -> PromotionCode:
    if not promo.active:
        raise Conflict("This code is already inactive.", code="promotion_code_inactive")
    promo.active, promo.deactivated_at = False, utcnow()
    record(actor, "promotion_code.deactivated", promo, {"code": promo.code})
    return promo


# ---------------------------------------------------------------- customers


def _locked(model, ident):
    return db.session.scalar(
        select(model).where(model.id == ident).with_for_update(of=model).execution_options(populate_existing=True)
    )


def redeem_promotion_code(org, sub: Subscription, code_text: str, actor, now: datetime | None = None):
    """Put the coupon behind ``code_text`` on ``sub``. The code and coupon rows are locked while the
    limits are checked and counted, so two redemptions of the last one cannot both succeed."""
    now = now or utcnow()
    code = normalize_code(code_text)
    unknown = DomainError(
        f"There is no promotion code {code or '(empty)'}.", field="code", code="promotion_code_unknown"
    )
    if not code or len(code) > 40:
        raise unknown
    promo_id = db.session.scalar(select(PromotionCode.id).where(PromotionCode.code == code))
    if promo_id is None:
        raise unknown
    promo = _locked(PromotionCode, promo_id)
    coupon = _locked(Coupon, promo.coupon_id)
    if not promo.active or not coupon.active:
        raise DomainError(f"The code {code} is no longer valid.", field="code", code="promotion_code_inactive")
    if (promo.expires_at and promo.expires_at <= now) or (coupon.redeem_by and coupon.redeem_by <= now):
        raise DomainError(f"The code {code} has expired.", field="code", code="promotion_code_expired")
    if (promo.max_redemptions is not None and promo.times_redeemed >= promo.max_redemptions) or (
        coupon.max_redemptions is not None and coupon.times_redeemed >= coupon.max_redemptions
    ):
        raise DomainError(f"The code {code} has been used up.", field="code", code="promotion_code_exhausted")
    if sub.ended_at is not None:
        raise Conflict("This subscription has ended.", field="code", code="subscription_ended")
    already = db.session.scalar(
        select(SubscriptionDiscount.id).where(
            SubscriptionDiscount.coupon_id == coupon.id, SubscriptionDiscount.organization_id == org.id
        )
    )
    if already is not None:
        raise Conflict(
            "This organization has already redeemed this offer.", field="code", code="promotion_code_redeemed"
        )
    current = db.session.scalar(
        select(SubscriptionDiscount).where(
            SubscriptionDiscount.subscription_id == sub.id, SubscriptionDiscount.ended_at.is_(None)
        )
    )
    if current is not None and current.end is not None and current.end <= now:
        current.ended_at = current.end  # a repeating discount that ran out makes room for the next
        db.session.flush()
    elif current is not None:
        raise Conflict(
            f"The subscription already has a discount ({describe_coupon(current.coupon)}).",
            field="code",
            code="discount_exists",
        )
    if not coupon.applies_to(sub.plan):
        names = ", ".join(plan.name for plan in coupon.plans)
        raise DomainError(f"The code {code} applies only to {names}.", field="code", code="promotion_code_plan")
    if not coupon.is_percent and (coupon.currency or "") != (sub.currency or ""):
        raise DomainError(
            f"The code {code} takes off {coupon.currency}; this subscription is billed in {sub.currency}.",
            field="code",
            code="promotion_code_currency",
        )
    discount = SubscriptionDiscount(
        organization_id=org.id,
        subscription_id=sub.id,
        coupon_id=coupon.id,
        coupon=coupon,
        promotion_code_id=promo.id,
        promotion_code=promo,
        start=now,
        end=add_months(now, coupon.duration_in_months) if coupon.duration == REPEATING else None,
        redeemed_by_id=getattr(actor, "id", None),
    )
    db.session.add(discount)
    promo.times_redeemed += 1
    coupon.times_redeemed += 1
    db.session.flush()
    record(
        actor,
        "subscription.discount_applied",
        sub,
        {
            "code": code,
            "coupon_id": coupon.id,
            "terms": describe_coupon(coupon),
            "start": discount.start.isoformat(),
            "end": discount.end.isoformat() if discount.end else None,
        },
        org=org,
    )
    emit("subscription.changed", org=org, actor=actor, subscription_id=sub.id, reason="discount_applied")
    return discount


__all__ = ["FOREVER", "ONCE", "REPEATING", "discount_for", "redeem_promotion_code"]
