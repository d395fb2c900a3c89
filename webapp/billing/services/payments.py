"""One payments model: apply a payment (idempotent per external reference), manual payments,
payment from the credit balance, credits and credit notes, and reactivation once the debt clears."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from webapp.audit import record
from webapp.billing.models import (
    ACCOUNT_ACTIVE,
    CREDIT_APPLIED,
    CREDIT_GRANT,
    CREDIT_OVERPAYMENT,
    MANUAL_METHODS,
    METHODS,
    OPEN_STATUSES,
    OVERDUE,
    PAID,
    PARTIAL,
    PAY_CANCELLED,
    PAY_FAILED,
    PAY_PAID,
    PAY_PENDING,
    PAY_REFUNDED,
    PAYMENT_RANK,
    SERVICE_ACTIVE,
    SERVICE_SUSPENDED,
    BillingAccount,
    Credit,
    Invoice,
    Payment,
    Service,
)
from webapp.billing.services.invoices import billing_account_for, transition
from webapp.core.errors import Conflict, DomainError, IllegalTransition
from webapp.core.events import emit
from webapp.core.models import get_existing, rowcount, utcnow
from webapp.extensions import db


def _lock_invoice(invoice: Invoice) -> Invoice:
    """Re-read the invoice under a row lock (PostgreSQL) so concurrent payments add up correctly."""
    return db.session.execute(
        select(Invoice).where(Invoice.id == invoice.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def _add_credit_balance(account: BillingAccount, amount: int) -> None:
    db.session.execute(
        update(BillingAccount)
        .where(BillingAccount.id == account.id)
        .values(credit_balance=BillingAccount.credit_balance + amount)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(account, ["credit_balance"])


def _apply_to_invoice(payment: Payment, actor=None) -> Payment:
    """Put a PAID payment's money on its invoice; anything beyond what is due becomes credit."""
    account = get_existing(BillingAccount, payment.account_id)
    remaining = payment.amount
    invoice = _lock_invoice(payment.invoice) if payment.invoice is not None else None
    if invoice is not None and invoice.status in OPEN_STATUSES and invoice.amount_due > 0:
        applied = min(remaining, invoice.amount_due)
        invoice.amount_paid += applied
        invoice.amount_due = invoice.total - invoice.amount_paid
        remaining -= applied
        payment.applied_amount = applied
        if invoice.amount_due == 0:
            invoice.paid_at = utcnow()
            transition(invoice, PAID, actor, payment_id=payment.id)
        elif invoice.status != OVERDUE:
            transition(invoice, PARTIAL, actor, payment_id=payment.id)
        else:
            record(actor, "invoice.partially_paid", invoice, {"payment_id": payment.id, "due": invoice.amount_due})
    if remaining > 0 and payment.method != "CREDIT":
        db.session.add(
            Credit(
                organization_id=payment.organization_id,
                account_id=account.id,
                invoice_id=payment.invoice_id,
                kind=CREDIT_OVERPAYMENT,
                amount=remaining,
                currency=payment.currency,
                reason=f"Overpayment of payment #{payment.id}",
            )
        )
        _add_credit_balance(account, remaining)
        record(actor, "credit.overpayment", account, {"payment_id": payment.id, "amount": remaining})
    db.session.flush()
    record(actor, "payment.received", payment, {"amount": payment.amount, "method": payment.method})
    for name in ("payment.received", "payment.succeeded"):  # payment.received: the older name, kept for subscribers
        emit(
            name,
            org=payment.organization_id,
            actor=actor,
            payment_id=payment.id,
            invoice_id=payment.invoice_id,
            amount=payment.amount,
            currency=payment.currency,
            provider=payment.provider,
        )
    if invoice is not None and invoice.status == PAID:
        emit("invoice.paid", org=invoice.organization_id, actor=actor, invoice_id=invoice.id, payment_id=payment.id)
        from webapp.billing.jobs import send_invoice_email

        send_invoice_email.delay(invoice.id, "receipt")
    reactivate_if_clear(account, actor)
    return payment


def apply_payment(
    invoice: Invoice,
    amount: int,
    method: str,
    *,
    provider: str = "manual",
    actor=None,
    external_reference: str | None = None,
    reference: str | None = None,
    external_status: str | None = None,
) -> Payment:
    """Record a completed payment on ``invoice`` and apply it. Idempotent per (provider, external
    reference): the same reference again returns the payment already recorded."""
    if method not in METHODS:
        raise DomainError("Choose a payment method from the list.", field="method")
    if not isinstance(amount, int) or amount <= 0:
        raise DomainError("Enter an amount above zero.", field="amount")
    if not invoice.is_finalized:
        raise IllegalTransition("A draft cannot take payments; finalize it first.")
    if invoice.status not in OPEN_STATUSES:
        raise IllegalTransition(f"This invoice is {invoice.status.title()}; it takes no more payments.")
    if external_reference:
        existing = db.session.scalar(
            select(Payment).where(Payment.provider == provider, Payment.external_reference == external_reference)
        )
        if existing is not None:
            return existing
    now = utcnow()
    payment = Payment(
        organization_id=invoice.organization_id,
        account_id=invoice.account_id,
        invoice_id=invoice.id,
        amount=amount,
        currency=invoice.currency,
        method=method,
        provider=provider,
        status=PAY_PAID,
        external_reference=external_reference,
        external_status=external_status,
        reference=reference,
        initiated_at=now,
        completed_at=now,
        created_by_id=getattr(actor, "id", None),
    )
    payment.invoice = invoice
    db.session.add(payment)
    db.session.flush()
    return _apply_to_invoice(payment, actor)


def record_manual_payment(invoice: Invoice, actor, amount: int, method: str, reference: str) -> Payment:
    """Staff record a bank transfer or cash payment with its reference."""
    if method not in MANUAL_METHODS:
        raise DomainError("Manual payments are bank transfer or cash.", field="method")
    reference = (reference or "").strip()
    if not reference:
        raise DomainError("Give the bank or receipt reference.", field="reference")
    return apply_payment(invoice, amount, method, provider="manual", actor=actor, reference=reference[:120])


def pay_from_credit(invoice: Invoice, actor=None) -> Payment:
    """Use the account's credit balance on this invoice (as much as is due)."""
    if invoice.status not in OPEN_STATUSES:
        raise IllegalTransition(f"This invoice is {invoice.status.title()}; nothing is due.")
    account = get_existing(BillingAccount, invoice.account_id)
    amount = min(account.credit_balance, invoice.amount_due)
    if amount <= 0:
        raise DomainError("There is no credit balance to use.", code="no_credit")
    taken = rowcount(
        db.session.execute(
            update(BillingAccount)
            .where(BillingAccount.id == account.id, BillingAccount.credit_balance >= amount)
            .values(credit_balance=BillingAccount.credit_balance - amount)
            .execution_options(synchronize_session=False)
        )
    )
    if taken != 1:
        raise Conflict("The credit balance changed; try again.")
    db.session.refresh(account, ["credit_balance"])
    db.session.add(
        Credit(
            organization_id=invoice.organization_id,
            account_id=account.id,
            invoice_id=invoice.id,
            kind=CREDIT_APPLIED,
            amount=-amount,
            currency=invoice.currency,
            reason=f"Applied to {invoice.number}",
            issued_by_id=getattr(actor, "id", None),
        )
    )
    return apply_payment(invoice, amount, "CREDIT", provider="credit", actor=actor)


def issue_credit(account: BillingAccount, actor, amount: int, reason: str, invoice: Invoice | None = None) -> Credit:
    """Staff grant credit (reason and issuer recorded); with an open invoice, it is applied to it."""
    if not isinstance(amount, int) or amount <= 0:
        raise DomainError("Enter a credit above zero.", field="amount")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the credit is issued.", field="reason")
    if invoice is not None and invoice.account_id != account.id:
        raise DomainError("That invoice belongs to another account.", field="invoice")
    credit = Credit(
        organization_id=account.organization_id,
        account_id=account.id,
        invoice_id=getattr(invoice, "id", None),
        kind=CREDIT_GRANT,
        amount=amount,
        currency=account.currency,
        reason=reason[:1000],
        issued_by_id=getattr(actor, "id", None),
    )
    db.session.add(credit)
    _add_credit_balance(account, amount)
    db.session.flush()
    record(actor, "credit.issued", credit, {"amount": amount, "reason": reason, "invoice_id": credit.invoice_id})
    if invoice is not None and invoice.status in OPEN_STATUSES:
        pay_from_credit(invoice, actor)
    return credit


SAME_CREDIT_WINDOW = timedelta(minutes=2)


def issue_account_credit(account: BillingAccount, staff, amount: int, reason: str) -> Credit:
    """Staff's account credit without an invoice. A second press of the same form (the same staff
    member, amount and reason within two minutes) is refused rather than crediting twice; the
    account row is locked so two presses in flight are decided one after the other."""
    db.session.execute(select(BillingAccount.id).where(BillingAccount.id == account.id).with_for_update())
    since = utcnow() - SAME_CREDIT_WINDOW
    twin = db.session.scalar(
        select(Credit.id).where(
            Credit.account_id == account.id,
            Credit.kind == CREDIT_GRANT,
            Credit.invoice_id.is_(None),
            Credit.issued_by_id == getattr(staff, "id", None),
            Credit.amount == amount,
            Credit.reason == (reason or "").strip()[:1000],
            Credit.created_at >= since,
        )
    )
    if twin is not None:
        raise Conflict(
            "The same credit was issued a moment ago (a second press?); it was not issued twice. "
            "Change the reason to issue another.",
            code="duplicate_credit",
        )
    return issue_credit(account, staff, amount, reason)


# --- provider payments (Paynow, Stripe) --------------------------------------------------------


def start_provider_payment(
    invoice: Invoice, *, provider: str, method: str, reference: str | None, phone=None
) -> Payment:
    """A PENDING payment for money a provider will collect; settled by ``settle_payment``."""
    if invoice.status not in OPEN_STATUSES or invoice.amount_due <= 0:
        raise IllegalTransition("Nothing is due on this invoice.")
    payment = Payment(
        organization_id=invoice.organization_id,
        account_id=invoice.account_id,
        invoice_id=invoice.id,
        amount=invoice.amount_due,
        currency=invoice.currency,
        method=method,
        provider=provider,
        status=PAY_PENDING,
        external_reference=reference,
        phone=phone,
    )
    db.session.add(payment)
    db.session.flush()
    record(None, "payment.initiated", payment, {"method": method, "amount": payment.amount})
    return payment


def settle_payment(payment: Payment, status: str, *, external_status: str | None = None, actor=None, error=None):
    """Move a provider payment forward (never back). The conditional UPDATE makes the move happen
    once even when many callbacks arrive together; only the one that moved it applies the money."""
    if PAYMENT_RANK[status] <= PAYMENT_RANK[payment.status] and status != payment.status:
        return False
    now = utcnow()
    values: dict[str, Any] = {"status": status, "external_status": external_status}
    if status == PAY_PAID:
        values["completed_at"] = now
    elif status in (PAY_FAILED, PAY_CANCELLED):
        values["failed_at"] = now
        values["error_message"] = error
    allowed_from = [s for s, rank in PAYMENT_RANK.items() if rank < PAYMENT_RANK[status]]
    moved = rowcount(
        db.session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status.in_(allowed_from))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.refresh(payment)
    if moved != 1:
        return False  # another request moved it first, or it was already further along
    if status == PAY_PAID:
        _apply_to_invoice(payment, actor)
    elif status in (PAY_FAILED, PAY_CANCELLED):
        record(actor, f"payment.{status.lower()}", payment, {"provider_status": external_status})
        emit(
            "payment.failed",
            org=payment.organization_id,
            payment_id=payment.id,
            invoice_id=payment.invoice_id,
            provider=payment.provider,
            error=error,
        )
    elif status == PAY_REFUNDED:
        record(actor, "payment.refunded", payment, {"provider_status": external_status})
    return True


# --- reactivation ------------------------------------------------------------------------------


def reactivate_if_clear(account: BillingAccount, actor=None) -> bool:
    """A payment that clears every overdue invoice brings the account and its services back."""
    if account.status == ACCOUNT_ACTIVE:
        return False
    still_overdue = db.session.scalar(
        select(Invoice.id).where(Invoice.account_id == account.id, Invoice.status == OVERDUE).limit(1)
    )
    if still_overdue:
        return False
    previous = account.status
    account.status = ACCOUNT_ACTIVE
    account.overdue_since = None
    account.suspended_at = None
    services = db.session.scalars(
        select(Service).where(
            Service.organization_id == account.organization_id,
            Service.status == SERVICE_SUSPENDED,
            Service.suspended_by_dunning.is_(True),
        )
    ).all()
    for service in services:
        service.status = SERVICE_ACTIVE
        service.suspended_at = None
        service.suspended_by_dunning = False
        record(actor, "service.reactivated", service, {"reason": "debt cleared"})
    record(actor, "billing_account.reactivated", account, {"from": previous, "services": len(services)})
    emit("account.reactivated", org=account.organization_id, actor=actor, account_id=account.id)
    return True


def account_for_invoice(invoice: Invoice) -> BillingAccount:
    return db.session.get(BillingAccount, invoice.account_id) or billing_account_for(invoice.organization_id)
