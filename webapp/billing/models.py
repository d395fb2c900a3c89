"""Billing: one billing account per organization, services, invoices (one model, immutable once
finalized), line items, payments (one model), credits, invoice-number counters and billing runs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigId, JobRunMixin, OrgOwnedMixin, TimestampMixin, utcnow
from webapp.extensions import Model
from webapp.jobs.lease import LeaseMixin

# --- billing account ---------------------------------------------------------------------------

ACCOUNT_ACTIVE, ACCOUNT_OVERDUE, ACCOUNT_SUSPENDED = "ACTIVE", "OVERDUE", "SUSPENDED"
ACCOUNT_STATUSES = (ACCOUNT_ACTIVE, ACCOUNT_OVERDUE, ACCOUNT_SUSPENDED)


class BillingAccount(TimestampMixin, OrgOwnedMixin, Model):
    __tablename__ = "billing_accounts"
    __table_args__ = (UniqueConstraint("organization_id", name="uq_billing_accounts_organization_id"),)

    status: Mapped[str] = mapped_column(String(16), default=ACCOUNT_ACTIVE, index=True)
    grace_period_days: Mapped[int] = mapped_column(Integer, default=14)
    credit_balance: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    overdue_since: Mapped[datetime | None]
    suspended_at: Mapped[datetime | None]

    organization = relationship("Organization", lazy="joined")


# --- services ----------------------------------------------------------------------------------

SERVICE_TYPES = ("POS_TERMINAL", "POS_MAINTENANCE", "FUTURE_PRODUCT")
SERVICE_ACTIVE, SERVICE_SUSPENDED, SERVICE_CANCELLED = "ACTIVE", "SUSPENDED", "CANCELLED"
SERVICE_STATUSES = (SERVICE_ACTIVE, SERVICE_SUSPENDED, SERVICE_CANCELLED)


class Service(TimestampMixin, OrgOwnedMixin, Model):
    __tablename__ = "billing_services"

    type: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(120))
    hardware_serial: Mapped[str | None] = mapped_column(String(64), index=True)
    monthly_fee: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[str] = mapped_column(String(16), default=SERVICE_ACTIVE, index=True)
    activated_at: Mapped[datetime] = mapped_column(default=utcnow)
    suspended_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # True when dunning (not a person) suspended it, so a payment reactivates only those.
    suspended_by_dunning: Mapped[bool] = mapped_column(default=False)

    @property
    def type_label(self) -> str:
        return self.type.replace("_", " ").title()


# --- invoices ----------------------------------------------------------------------------------

DRAFT, ISSUED, PARTIAL, PAID, OVERDUE, VOID, REFUNDED = (
    "DRAFT",
    "ISSUED",
    "PARTIAL",
    "PAID",
    "OVERDUE",
    "VOID",
    "REFUNDED",
)
INVOICE_STATUSES = (DRAFT, ISSUED, PARTIAL, PAID, OVERDUE, VOID, REFUNDED)
OPEN_STATUSES = (ISSUED, PARTIAL, OVERDUE)

# DESIGN §1, the one transition table. Anything else raises IllegalTransition.
TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({ISSUED, VOID}),
    ISSUED: frozenset({PARTIAL, PAID, OVERDUE, VOID}),
    PARTIAL: frozenset({PAID, OVERDUE, PARTIAL}),
    OVERDUE: frozenset({PAID, OVERDUE}),
    PAID: frozenset({REFUNDED}),
    VOID: frozenset(),
    REFUNDED: frozenset(),
}

# Columns that never change once finalized_at is set (the ORM listener and the PostgreSQL trigger).
FROZEN_COLUMNS = (
    "number",
    "organization_id",
    "account_id",
    "subscription_id",
    "currency",
    "period_start",
    "period_end",
    "subtotal",
    "tax_rate_bps",
    "tax",
    "total",
    "issued_at",
    "due_at",
    "finalized_at",
)


class Invoice(TimestampMixin, OrgOwnedMixin, Model):
    __tablename__ = "billing_invoices"
    __table_args__ = (Index("ix_billing_invoices_account_run_period", "account_id", "run_period"),)

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id", ondelete="CASCADE"), index=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # Set by the billing run only (which run made it). Not unique: what may not be billed twice is
    # a period of a billable thing, kept in billing_billed_periods.
    run_period: Mapped[str | None] = mapped_column(String(7))
    subscription_id: Mapped[int | None] = mapped_column(BigId)
    subtotal: Mapped[int] = mapped_column(BigId, default=0)
    tax_rate_bps: Mapped[int] = mapped_column(Integer, default=0)
    tax: Mapped[int] = mapped_column(BigId, default=0)
    total: Mapped[int] = mapped_column(BigId, default=0)
    amount_paid: Mapped[int] = mapped_column(BigId, default=0)
    amount_due: Mapped[int] = mapped_column(BigId, default=0)
    memo: Mapped[str | None] = mapped_column(Text)
    finalized_at: Mapped[datetime | None]
    issued_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    paid_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)
    overdue_at: Mapped[datetime | None]
    reminder_sent_at: Mapped[datetime | None]
    # The payment link's nonce; the link itself is ``payment_token`` (nonce + MAC, webapp.secrets.links),
    # so the column alone is no working link. Rows from before hold their old, now unusable, token.
    payment_nonce: Mapped[str | None] = mapped_column("payment_token", String(64), unique=True)
    payment_token_expires_at: Mapped[datetime | None]

    account: Mapped[BillingAccount] = relationship()
    organization = relationship("Organization")
    lines: Mapped[list[InvoiceLineItem]] = relationship(
        back_populates="invoice", order_by="InvoiceLineItem.id", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(back_populates="invoice", order_by="Payment.id")

    @property
    def is_finalized(self) -> bool:
        return self.finalized_at is not None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def display_number(self) -> str:
        return self.number or f"Draft #{self.id}"

    @property
    def payment_token(self) -> str | None:
        """The secret of the payment link ``/pay/<token>``."""
        from webapp.secrets.links import sign

        return sign(PAYMENT_LINK, self.payment_nonce) if self.payment_nonce else None

    @property
    def link_expired(self) -> bool:
        return self.payment_token_expires_at is None or self.payment_token_expires_at <= utcnow()


PAYMENT_LINK = "invoice-payment-link"


class InvoiceLineItem(TimestampMixin, Model):
    __tablename__ = "billing_invoice_lines"

    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_invoices.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price: Mapped[int] = mapped_column(BigId)
    total: Mapped[int] = mapped_column(BigId)
    service_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("billing_services.id", ondelete="SET NULL"), index=True
    )
    metric: Mapped[str | None] = mapped_column(String(64))
    subscription_id: Mapped[int | None] = mapped_column(BigId)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    service: Mapped[Service | None] = relationship()


class BilledPeriod(TimestampMixin, OrgOwnedMixin, Model):
    """What a line bills: a billable thing (``key``) from ``start`` to ``end`` (dates, inclusive).

    Written only by ``services/periods.py``. A live row (``released_at`` NULL) means those days are
    billed; on PostgreSQL an exclusion constraint (added by the migration, btree_gist) makes two live
    rows with the same key and overlapping dates impossible. Voiding the invoice, or crediting the
    line in full, sets ``released_at`` (the line itself is frozen once finalized)."""

    __tablename__ = "billing_billed_periods"
    __table_args__ = (
        Index("ix_billing_billed_periods_key_start", "billable_key", "start_date"),
        CheckConstraint("end_date >= start_date", name="ck_billing_billed_periods_dates"),
    )

    line_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_invoice_lines.id", ondelete="CASCADE"), unique=True)
    invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_invoices.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id", ondelete="CASCADE"), index=True)
    billable_key: Mapped[str] = mapped_column(String(120))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    released_at: Mapped[datetime | None]
    release_reason: Mapped[str | None] = mapped_column(String(200))

    invoice: Mapped[Invoice] = relationship()
    line: Mapped[InvoiceLineItem] = relationship()


class InvoiceNumberCounter(Model):
    """One row per calendar year; the row lock makes numbering gapless under concurrency."""

    __tablename__ = "billing_invoice_counters"

    year: Mapped[int] = mapped_column(Integer, unique=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


# --- payments ----------------------------------------------------------------------------------

METHODS = (
    "PAYNOW_ECOCASH",
    "PAYNOW_ONEMONEY",
    "PAYNOW_INNBUCKS",
    "PAYNOW_VISA",
    "PAYNOW_MASTERCARD",
    "PAYNOW_WEB",
    "BANK_TRANSFER",
    "CASH",
    "CREDIT",
    "STRIPE_CARD",
)
MANUAL_METHODS = ("BANK_TRANSFER", "CASH")
PAY_PENDING, PAY_PAID, PAY_FAILED, PAY_CANCELLED, PAY_REFUNDED = "PENDING", "PAID", "FAILED", "CANCELLED", "REFUNDED"
PAYMENT_STATUSES = (PAY_PENDING, PAY_PAID, PAY_FAILED, PAY_CANCELLED, PAY_REFUNDED)
# Status only moves forward: a rank never decreases (PENDING -> terminal).
PAYMENT_RANK = {PAY_PENDING: 0, PAY_FAILED: 1, PAY_CANCELLED: 1, PAY_PAID: 2, PAY_REFUNDED: 3}


class Payment(TimestampMixin, OrgOwnedMixin, Model):
    __tablename__ = "billing_payments"
    __table_args__ = (UniqueConstraint("provider", "external_reference", name="uq_billing_payments_provider_ref"),)

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("billing_invoices.id", ondelete="SET NULL"), index=True
    )
    amount: Mapped[int] = mapped_column(BigId)
    applied_amount: Mapped[int] = mapped_column(BigId, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    method: Mapped[str] = mapped_column(String(24))
    provider: Mapped[str] = mapped_column(String(16))  # paynow, manual, credit, stripe
    status: Mapped[str] = mapped_column(String(16), default=PAY_PENDING, index=True)
    external_reference: Mapped[str | None] = mapped_column(String(120))
    provider_reference: Mapped[str | None] = mapped_column(String(120))
    poll_url: Mapped[str | None] = mapped_column(String(500))
    external_status: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    reference: Mapped[str | None] = mapped_column(String(120))  # a manual payment's bank/cash reference
    instructions: Mapped[str | None] = mapped_column(Text)
    initiated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)

    invoice: Mapped[Invoice | None] = relationship(back_populates="payments")
    account: Mapped[BillingAccount] = relationship()

    @property
    def method_label(self) -> str:
        from webapp.core.display import translated

        if self.method == "STRIPE_CARD":
            return translated("Card (Stripe)")
        return translated(self.method.replace("PAYNOW_", "Paynow ").replace("_", " ").title())


# --- credits -----------------------------------------------------------------------------------

CREDIT_GRANT, CREDIT_OVERPAYMENT, CREDIT_APPLIED, CREDIT_NOTE = "GRANT", "OVERPAYMENT", "APPLIED", "CREDIT_NOTE"


class Credit(TimestampMixin, OrgOwnedMixin, Model):
    """A credit-ledger entry: positive adds to the balance, negative (APPLIED) uses it."""

    __tablename__ = "billing_credits"

    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("billing_accounts.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("billing_invoices.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default=CREDIT_GRANT)
    amount: Mapped[int] = mapped_column(BigId)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    reason: Mapped[str] = mapped_column(Text)
    issued_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))

    invoice: Mapped[Invoice | None] = relationship()
    issued_by = relationship("User", foreign_keys="Credit.issued_by_id")


# --- billing runs ------------------------------------------------------------------------------


class BillingRun(LeaseMixin, JobRunMixin, TimestampMixin, Model):
    __tablename__ = "billing_runs"

    period: Mapped[str] = mapped_column(String(7), index=True)
    started_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    # Per organization: what was billed (invoice, lines), what was already billed and by which
    # invoice, what was skipped and why (``services/run.py``; the staff run page shows it).
    report: Mapped[list] = mapped_column(default=list)

    started_by = relationship("User")
