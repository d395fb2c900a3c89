"""Coupons, promotion codes and the discount a subscription carries (as Stripe has them).

A ``Coupon`` says what is taken off (percent in basis points, or a fixed amount in cents in one
currency) and for how long (once, repeating for N months, forever); staff make them. A
``PromotionCode`` is the customer-facing code that points at a coupon. Redeeming one puts a
``SubscriptionDiscount`` on the organization's current subscription; invoices of that subscription
then carry the discount as its own negative line.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigId, TimestampMixin
from webapp.extensions import Model, db
from webapp.subscriptions.models import Plan

ONCE, REPEATING, FOREVER = "ONCE", "REPEATING", "FOREVER"
DURATIONS = (ONCE, REPEATING, FOREVER)

coupon_plans = Table(
    "coupon_plans",
    db.metadata,
    Column("coupon_id", BigId, ForeignKey("coupons.id", ondelete="CASCADE"), primary_key=True),
    Column("plan_id", BigId, ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
)


class Coupon(TimestampMixin, Model):
    """What a discount takes off and for how long. Exactly one of ``percent_off_bps`` and
    ``amount_off`` is set (the database says so too)."""

    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("(percent_off_bps IS NULL) <> (amount_off IS NULL)", name="percent_or_amount"),
        CheckConstraint("percent_off_bps IS NULL OR (percent_off_bps BETWEEN 1 AND 10000)", name="bps"),
        CheckConstraint("amount_off IS NULL OR (amount_off > 0 AND currency IS NOT NULL)", name="amount"),
        CheckConstraint("times_redeemed >= 0", name="times_redeemed"),
    )

    name: Mapped[str] = mapped_column(String(80))
    percent_off_bps: Mapped[int | None] = mapped_column(Integer)
    amount_off: Mapped[int | None] = mapped_column(Integer)  # cents, per invoice
    currency: Mapped[str | None] = mapped_column(String(3))
    duration: Mapped[str] = mapped_column(String(10), default=ONCE)
    duration_in_months: Mapped[int | None] = mapped_column(Integer)
    max_redemptions: Mapped[int | None] = mapped_column(Integer)
    times_redeemed: Mapped[int] = mapped_column(Integer, default=0)
    redeem_by: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))

    plans: Mapped[list[Plan]] = relationship(secondary=coupon_plans, lazy="selectin", order_by=Plan.sort_order)

    @property
    def plan_codes(self) -> list[str]:
        return [plan.code for plan in self.plans]

    def applies_to(self, plan: Plan) -> bool:
        return not self.plans or any(p.id == plan.id for p in self.plans)

    @property
    def is_percent(self) -> bool:
        return self.percent_off_bps is not None


class PromotionCode(TimestampMixin, Model):
    """A code customers type. Stored upper-cased, so ``summer25`` and ``SUMMER25`` are one code."""

    __tablename__ = "promotion_codes"
    __table_args__ = (CheckConstraint("times_redeemed >= 0", name="times_redeemed"),)

    coupon_id: Mapped[int] = mapped_column(BigId, ForeignKey("coupons.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    max_redemptions: Mapped[int | None] = mapped_column(Integer)
    times_redeemed: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))

    coupon: Mapped[Coupon] = relationship(lazy="joined")


class SubscriptionDiscount(TimestampMixin, Model):
    """A coupon applied to one subscription from ``start``; a repeating one stops at ``end``, a once
    one after the invoice that used it (``ended_at``). One coupon per organization, ever; at most one
    live discount per subscription."""

    __tablename__ = "subscription_discounts"
    __table_args__ = (
        UniqueConstraint("coupon_id", "organization_id", name="uq_subscription_discounts_coupon_org"),
        Index(
            "uq_subscription_discounts_live_per_subscription",
            "subscription_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
    )

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[int] = mapped_column(BigId, ForeignKey("subscriptions.id", ondelete="CASCADE"))
    coupon_id: Mapped[int] = mapped_column(BigId, ForeignKey("coupons.id", ondelete="CASCADE"), index=True)
    promotion_code_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("promotion_codes.id", ondelete="SET NULL"), index=True
    )
    start: Mapped[datetime]
    end: Mapped[datetime | None]  # REPEATING: start + N months; ONCE and FOREVER: none
    ended_at: Mapped[datetime | None]
    invoices_discounted: Mapped[int] = mapped_column(Integer, default=0)
    redeemed_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))

    coupon: Mapped[Coupon] = relationship(lazy="joined")
    promotion_code: Mapped[PromotionCode | None] = relationship()

    def live_at(self, moment: datetime) -> bool:
        return self.ended_at is None and self.start <= moment and (self.end is None or moment < self.end)
