"""The plan catalog and each organization's subscription (seed 004 ``Subscription``, seed 003 plans)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigId, OrgOwnedMixin, TimestampMixin
from webapp.extensions import Model

MONTHLY, YEARLY = "MONTHLY", "YEARLY"
INTERVALS = (MONTHLY, YEARLY)

TRIALING, ACTIVE, PAST_DUE = "TRIALING", "ACTIVE", "PAST_DUE"
CANCELED, INCOMPLETE, INCOMPLETE_EXPIRED = "CANCELED", "INCOMPLETE", "INCOMPLETE_EXPIRED"
STATUSES = (TRIALING, ACTIVE, PAST_DUE, CANCELED, INCOMPLETE, INCOMPLETE_EXPIRED)

# Limit names as other domains call them: limits.check(org, "users"), plan_limit(org, "storage_mb").
LIMITS = ("users", "storage_mb", "ai_credits", "api_calls")
LIMIT_LABELS = {
    "users": "users",
    "storage_mb": "storage (MB)",
    "ai_credits": "AI credits per period",
    "api_calls": "API calls per month",
}


class Plan(TimestampMixin, Model):
    """One row per catalog plan. A limit of ``None`` means unlimited."""

    __tablename__ = "plans"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(300), default="")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    monthly_price: Mapped[int] = mapped_column(Integer, default=0)
    yearly_price: Mapped[int] = mapped_column(Integer, default=0)
    max_users: Mapped[int | None] = mapped_column(Integer)
    max_storage_mb: Mapped[int | None] = mapped_column(Integer)
    max_ai_credits: Mapped[int | None] = mapped_column(Integer)
    max_api_calls: Mapped[int | None] = mapped_column(Integer)
    # {"<metric code>": {"unit_price": cents, "per": units, "included": units}}
    metered_prices: Mapped[dict] = mapped_column(default=dict)
    is_custom_priced: Mapped[bool] = mapped_column(Boolean, default=False)  # ENTERPRISE: staff price per org
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    def price(self, interval: str) -> int:
        return self.yearly_price if interval == YEARLY else self.monthly_price

    def limit(self, name: str) -> int | None:
        return getattr(self, f"max_{name}")

    @property
    def is_free(self) -> bool:
        return self.monthly_price == 0 and self.yearly_price == 0 and not self.is_custom_priced


class Subscription(TimestampMixin, OrgOwnedMixin, Model):
    """An organization's subscription. Exactly one per organization is current (``ended_at`` is null);
    ended ones stay as history (CANCELED, INCOMPLETE_EXPIRED)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index(
            "uq_subscriptions_current_per_org",
            "organization_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
            sqlite_where=text("ended_at IS NULL"),
        ),
    )

    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("plans.id"))
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE, index=True)
    billing_interval: Mapped[str] = mapped_column(String(8), default=MONTHLY)
    amount: Mapped[int] = mapped_column(Integer, default=0)  # per interval, cents
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    current_period_start: Mapped[datetime]
    current_period_end: Mapped[datetime] = mapped_column(index=True)
    trial_start: Mapped[datetime | None]
    trial_end: Mapped[datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    canceled_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # A downgrade or interval switch waits for the period end.
    pending_plan_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("plans.id"))
    pending_interval: Mapped[str | None] = mapped_column(String(8))
    # ENTERPRISE (or any negotiated deal): staff-set prices and limits for this organization.
    custom_monthly_price: Mapped[int | None] = mapped_column(Integer)
    custom_yearly_price: Mapped[int | None] = mapped_column(Integer)
    custom_limits: Mapped[dict] = mapped_column(default=dict)
    last_invoice_id: Mapped[int | None] = mapped_column(BigId)

    plan: Mapped[Plan] = relationship(foreign_keys=[plan_id], lazy="joined")
    pending_plan: Mapped[Plan | None] = relationship(foreign_keys=[pending_plan_id])

    @property
    def is_current(self) -> bool:
        return self.ended_at is None

    @property
    def status_label(self) -> str:
        from webapp.core.display import translated

        return translated(self.status.replace("_", " ").title())

    def limit(self, name: str) -> int | None:
        if name in (self.custom_limits or {}):
            return self.custom_limits[name]
        return self.plan.limit(name)
