"""Payments beyond the one Payment row: provider customers, saved payment methods (seed 004), the
provider events we received (webhooks and callbacks), automatic-collection attempts, refunds and
numbered credit notes (immutable once issued, like invoices)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigId, OrgOwnedMixin, TimestampMixin, utcnow
from webapp.extensions import Model


class ProviderCustomer(TimestampMixin, OrgOwnedMixin, Model):
    """The billing account's customer object at a provider (Stripe ``cus_…``)."""

    __tablename__ = "billing_provider_customers"
    __table_args__ = (
        UniqueConstraint("account_id", "provider", name="uq_billing_provider_customers_account_provider"),
        UniqueConstraint("provider", "customer_id", name="uq_billing_provider_customers_provider_customer"),
    )

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str] = mapped_column(String(120))


METHOD_ACTIVE, METHOD_REMOVED = "ACTIVE", "REMOVED"


class PaymentMethod(TimestampMixin, OrgOwnedMixin, Model):
    """A saved card (seed 004 ``PaymentMethod``): only what can be shown, never a card number."""

    __tablename__ = "billing_payment_methods"
    __table_args__ = (
        # At most one default per account among the methods still saved.
        Index(
            "uq_billing_payment_methods_default",
            "account_id",
            unique=True,
            postgresql_where=text("is_default AND status = 'ACTIVE'"),
            sqlite_where=text("is_default AND status = 'ACTIVE'"),
        ),
    )

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(16), default="stripe")
    stripe_payment_method_id: Mapped[str] = mapped_column(String(120), unique=True)
    type: Mapped[str] = mapped_column(String(24), default="card")
    is_default: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=METHOD_ACTIVE, index=True)
    card_brand: Mapped[str | None] = mapped_column(String(24))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    card_exp_month: Mapped[int | None] = mapped_column(Integer)
    card_exp_year: Mapped[int | None] = mapped_column(Integer)
    removed_at: Mapped[datetime | None]
    expiry_notice_sent_at: Mapped[datetime | None]

    @property
    def label(self) -> str:
        brand = (self.card_brand or self.type).replace("_", " ").title()
        return f"{brand} •••• {self.card_last4}" if self.card_last4 else brand

    @property
    def expiry(self) -> str:
        if not self.card_exp_month or not self.card_exp_year:
            return ""
        return f"{self.card_exp_month:02d}/{self.card_exp_year}"

    @property
    def expires_on(self) -> date | None:
        """The last day the card can be charged (cards expire at the end of their month)."""
        if not self.card_exp_month or not self.card_exp_year:
            return None
        year, month = self.card_exp_year + self.card_exp_month // 12, self.card_exp_month % 12 + 1
        return date.fromordinal(date(year, month, 1).toordinal() - 1)


EVENT_RECEIVED, EVENT_PROCESSED, EVENT_FAILED, EVENT_IGNORED = "RECEIVED", "PROCESSED", "FAILED", "IGNORED"


class ProviderEvent(Model):
    """A webhook or callback as it arrived, after its signature or hash was checked. Unique per
    provider and event id, so a delivery repeated any number of times is recorded, and handled, once."""

    __tablename__ = "billing_provider_events"
    __table_args__ = (UniqueConstraint("provider", "event_id", name="uq_billing_provider_events_provider_event"),)

    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=EVENT_RECEIVED, index=True)
    payment_id: Mapped[int | None] = mapped_column(BigId)
    error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]


ATTEMPT_PENDING, ATTEMPT_SUCCEEDED, ATTEMPT_FAILED, ATTEMPT_ACTION = "PENDING", "SUCCEEDED", "FAILED", "REQUIRES_ACTION"


class CollectionAttempt(TimestampMixin, OrgOwnedMixin, Model):
    """One automatic charge of an invoice to the saved default method."""

    __tablename__ = "billing_collection_attempts"
    __table_args__ = (UniqueConstraint("invoice_id", "number", name="uq_billing_collection_attempts_invoice_number"),)

    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_invoices.id", ondelete="CASCADE"), index=True)
    payment_method_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("billing_payment_methods.id", ondelete="SET NULL")
    )
    payment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("billing_payments.id", ondelete="SET NULL"))
    number: Mapped[int] = mapped_column(Integer)  # 1 = first attempt, then the retries
    status: Mapped[str] = mapped_column(String(16), default=ATTEMPT_PENDING, index=True)
    amount: Mapped[int] = mapped_column(BigId)
    currency: Mapped[str] = mapped_column(String(3))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the next retry is due (None: no more retries, dunning takes over).
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)

    payment_method: Mapped[PaymentMethod | None] = relationship()


REFUND_PENDING, REFUND_SUCCEEDED, REFUND_FAILED = "PENDING", "SUCCEEDED", "FAILED"
TO_PROVIDER, TO_CREDIT = "provider", "credit"


class Refund(TimestampMixin, OrgOwnedMixin, Model):
    """Money given back for a payment: to its provider (Stripe's refund API, or a refund made by hand
    with its reference) or to the account's credit balance. Each refund has its credit note."""

    __tablename__ = "billing_refunds"
    __table_args__ = (UniqueConstraint("provider", "provider_reference", name="uq_billing_refunds_provider_ref"),)

    payment_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_payments.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("billing_invoices.id", ondelete="SET NULL"))
    amount: Mapped[int] = mapped_column(BigId)
    currency: Mapped[str] = mapped_column(String(3))
    destination: Mapped[str] = mapped_column(String(16))  # provider / credit
    provider: Mapped[str] = mapped_column(String(16))  # stripe, paynow, manual, credit
    provider_reference: Mapped[str | None] = mapped_column(String(120))  # Stripe re_…, or the manual reference
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=REFUND_PENDING)
    reason: Mapped[str] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)

    payment = relationship("Payment")


class CreditNoteNumberCounter(Model):
    """One row per calendar year, like the invoice counter: the row lock keeps numbers gapless."""

    __tablename__ = "billing_credit_note_counters"

    year: Mapped[int] = mapped_column(Integer, unique=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class CreditNote(TimestampMixin, OrgOwnedMixin, Model):
    """``CN-<year>-<6 digits>``, numbered at issue; nothing but ``emailed_at`` changes afterwards."""

    __tablename__ = "billing_credit_notes"

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_invoices.id", ondelete="CASCADE"), index=True)
    refund_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("billing_refunds.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(20), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigId)
    tax: Mapped[int] = mapped_column(BigId)
    total: Mapped[int] = mapped_column(BigId)
    reason: Mapped[str] = mapped_column(Text)
    destination: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    emailed_at: Mapped[datetime | None]

    invoice = relationship("Invoice")
    refund: Mapped[Refund | None] = relationship()
    issued_by = relationship("User", foreign_keys="CreditNote.issued_by_id")
    lines: Mapped[list[CreditNoteLine]] = relationship(
        back_populates="credit_note", order_by="CreditNoteLine.id", cascade="all, delete-orphan"
    )


class CreditNoteLine(Model):
    __tablename__ = "billing_credit_note_lines"

    credit_note_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("billing_credit_notes.id", ondelete="CASCADE"), index=True
    )
    invoice_line_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("billing_invoice_lines.id", ondelete="SET NULL"), index=True
    )
    description: Mapped[str] = mapped_column(String(300))
    amount: Mapped[int] = mapped_column(BigId)  # before tax

    credit_note: Mapped[CreditNote] = relationship(back_populates="lines")


# Columns of an issued credit note that never change (the ORM listener and the PostgreSQL trigger).
CREDIT_NOTE_FROZEN = (
    "number",
    "organization_id",
    "account_id",
    "invoice_id",
    "currency",
    "subtotal",
    "tax",
    "total",
    "reason",
    "destination",
    "issued_at",
)
