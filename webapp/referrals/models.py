"""Referral programs (seed 004): one per user, with clicks, referrals and payouts. Money in cents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigId, TimestampMixin, utcnow
from webapp.extensions import Model, db

Cents = BigInteger().with_variant(db.Integer, "sqlite")


class ReferralProgram(TimestampMixin, Model):
    __tablename__ = "referral_programs"
    __table_args__ = (
        CheckConstraint("available_balance >= 0", name="available_not_negative"),
        CheckConstraint("pending_payout >= 0", name="pending_not_negative"),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    custom_slug: Mapped[str | None] = mapped_column(String(40), unique=True)
    custom_message: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total_earnings: Mapped[int] = mapped_column(Cents, default=0)
    available_balance: Mapped[int] = mapped_column(Cents, default=0)
    pending_payout: Mapped[int] = mapped_column(Cents, default=0)
    paid_out: Mapped[int] = mapped_column(Cents, default=0)

    user = relationship("User")

    @property
    def public_code(self) -> str:
        return self.custom_slug or self.code


class ReferralClick(Model):
    """One visit of a referral link. IP and user agent are erased after the retention setting."""

    __tablename__ = "referral_clicks"
    __table_args__ = (Index("ix_referral_clicks_program_created", "program_id", "created_at"),)

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("referral_programs.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str | None] = mapped_column(String(100))
    campaign: Mapped[str | None] = mapped_column(String(100))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)


class Referral(TimestampMixin, Model):
    __tablename__ = "referrals"
    # One live referral per e-mail address, whoever referred it (stored lower-case). An invitation
    # that expired unanswered no longer holds the address: another referrer may invite it.
    __table_args__ = (
        Index(
            "uq_referrals_live_email",
            "referee_email",
            unique=True,
            postgresql_where=text("status <> 'EXPIRED'"),
            sqlite_where=text("status <> 'EXPIRED'"),
        ),
    )

    PENDING, SIGNED_UP, CONFIRMED, EXPIRED = "PENDING", "SIGNED_UP", "CONFIRMED", "EXPIRED"

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("referral_programs.id", ondelete="CASCADE"), index=True)
    click_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("referral_clicks.id", ondelete="SET NULL"))
    referee_email: Mapped[str] = mapped_column(String(254))
    referee_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    source: Mapped[str | None] = mapped_column(String(100))
    campaign: Mapped[str | None] = mapped_column(String(100))
    signup_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    confirming_invoice_id: Mapped[int | None] = mapped_column(BigId)
    reward_amount: Mapped[int | None] = mapped_column(Cents)
    expired_at: Mapped[datetime | None]

    program: Mapped[ReferralProgram] = relationship()


class ReferralPayout(TimestampMixin, Model):
    __tablename__ = "referral_payouts"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    PENDING, APPROVED, PROCESSING, COMPLETED, FAILED = "PENDING", "APPROVED", "PROCESSING", "COMPLETED", "FAILED"
    CANCELED = "CANCELED"  # by the referrer, while still PENDING
    METHODS = ("STRIPE", "PAYPAL", "BANK_TRANSFER", "STORE_CREDIT")

    program_id: Mapped[int] = mapped_column(BigId, ForeignKey("referral_programs.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column(Cents)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    details: Mapped[dict] = mapped_column(default=dict)  # account e-mail, bank account, credited organization
    transaction_id: Mapped[str | None] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    canceled_at: Mapped[datetime | None]

    program: Mapped[ReferralProgram] = relationship()
