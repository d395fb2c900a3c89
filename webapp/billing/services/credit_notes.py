"""Refunds and credit notes.

A credit note gives back part or all of what a *paid* invoice charged: chosen amounts of its lines
(before tax) plus the tax on them at the invoice's rate. It either refunds a payment to its provider
(Stripe's refund API; Paynow and manual payments, which have no refund API, are refunded by a person
and recorded with the refund's reference) or goes to the account's credit balance. Each credit note
has its own number, ``CN-<year>-<6 digits>``, taken at issue from a per-year counter row exactly like
invoice numbers (gapless under concurrency, never reused) and, once issued, never changes (an ORM
listener here and a PostgreSQL trigger in the migration). When everything an invoice charged has
been credited it becomes REFUNDED; a payment refunded in full becomes REFUNDED.
"""

from __future__ import annotations

import secrets

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from webapp.audit import record
from webapp.billing.models import (
    CREDIT_NOTE,
    PAID,
    PAY_PAID,
    PAY_REFUNDED,
    REFUNDED,
    BillingAccount,
    Credit,
    Invoice,
    InvoiceLineItem,
    Payment,
)
from webapp.billing.payment_models import (
    CREDIT_NOTE_FROZEN,
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCEEDED,
    TO_CREDIT,
    TO_PROVIDER,
    CreditNote,
    CreditNoteLine,
    CreditNoteNumberCounter,
    Refund,
)
from webapp.billing.services.invoices import allocate_numbers, tax_for, transition
from webapp.billing.services.payments import _add_credit_balance, _lock_invoice, settle_payment
from webapp.core.errors import Conflict, DomainError, IllegalTransition
from webapp.core.events import emit
from webapp.core.models import get_existing, utcnow
from webapp.extensions import db


class CreditNoteIssued(Conflict):
    code = "credit_note_issued"


# --- what is left to credit ----------------------------------------------------------------------


def credited_by_line(invoice_id: int) -> dict[int, int]:
    rows = db.session.execute(
        select(CreditNoteLine.invoice_line_id, func.sum(CreditNoteLine.amount))
        .join(CreditNote, CreditNote.id == CreditNoteLine.credit_note_id)
        .where(CreditNote.invoice_id == invoice_id, CreditNoteLine.invoice_line_id.is_not(None))
        .group_by(CreditNoteLine.invoice_line_id)
    ).all()
    return {line_id: int(total) for line_id, total in rows if line_id is not None}  # the query keeps set ids


def credited_totals(invoice_id: int) -> tuple[int, int]:
    """(total credited, tax credited) on the invoice so far."""
    total, tax = db.session.execute(
        select(func.coalesce(func.sum(CreditNote.total), 0), func.coalesce(func.sum(CreditNote.tax), 0)).where(
            CreditNote.invoice_id == invoice_id
        )
    ).one()
    return int(total), int(tax)


def refunded_amount(payment_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Refund.amount), 0)).where(
                Refund.payment_id == payment_id, Refund.status != REFUND_FAILED
            )
        )
        or 0
    )


def refundable_amount(payment: Payment) -> int:
    """What is left to refund of a payment: the part it paid on its invoice, less earlier refunds."""
    if payment.status not in (PAY_PAID, PAY_REFUNDED):
        return 0
    return max(0, (payment.applied_amount or payment.amount) - refunded_amount(payment.id))


def credit_notes_of(invoice_id: int) -> list[CreditNote]:
    return list(
        db.session.scalars(select(CreditNote).where(CreditNote.invoice_id == invoice_id).order_by(CreditNote.id))
    )


# --- issuing -------------------------------------------------------------------------------------


def _lock_payment(payment: Payment) -> Payment:
    return db.session.execute(
        select(Payment).where(Payment.id == payment.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def _note_lines(invoice: Invoice, amounts: dict[int, int] | None) -> tuple[list[tuple[InvoiceLineItem, int]], bool]:
    """The (line, amount) pairs to credit and whether the invoice is then credited in full.
    ``amounts`` None: everything not credited yet."""
    done = credited_by_line(invoice.id)
    remaining = {line.id: line.total - done.get(line.id, 0) for line in invoice.lines}
    if amounts is None:
        chosen = {line_id: left for line_id, left in remaining.items() if left > 0}
    else:
        chosen = {}
        for line_id, amount in amounts.items():
            if line_id not in remaining:
                raise DomainError("That line is not on this invoice.", field="lines")
            if not isinstance(amount, int) or amount < 0:
                raise DomainError("Credit amounts are whole cents, zero or more.", field="lines")
            if amount > remaining[line_id]:
                raise DomainError("A line cannot be credited for more than is left on it.", field="lines")
            if amount:
                chosen[line_id] = amount
    if not chosen:
        raise DomainError(
            "Choose what to credit: nothing is selected, or everything was credited already.", field="lines"
        )
    by_id = {line.id: line for line in invoice.lines}
    complete = all(remaining[line_id] - chosen.get(line_id, 0) == 0 for line_id in remaining)
    return [(by_id[line_id], amount) for line_id, amount in sorted(chosen.items())], complete


def issue_credit_note(
    invoice: Invoice,
    actor,
    reason: str,
    *,
    lines: dict[int, int] | None = None,
    payment: Payment | None = None,
    destination: str = TO_CREDIT,
    reference: str | None = None,
) -> CreditNote:
    """Credit ``lines`` (invoice line id -> cents before tax; None = all that is left) of a paid
    invoice, refunding ``payment`` to its provider or putting the money on the credit balance."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the credit note is issued.", field="reason")
    if destination not in (TO_PROVIDER, TO_CREDIT):
        raise DomainError("Refund to the payment's provider or to the account's credit.", field="destination")
    invoice = _lock_invoice(invoice)
    if invoice.status != PAID:
        raise IllegalTransition(
            "Only a paid invoice is refunded by credit note; an open one takes a credit against it instead."
        )
    if payment is not None:
        payment = _lock_payment(payment)
        if payment.invoice_id != invoice.id:
            raise DomainError("That payment is not on this invoice.", field="payment")
    elif destination == TO_PROVIDER:
        raise DomainError("Choose the payment to refund.", field="payment")
    chosen, complete = _note_lines(invoice, lines)
    credited_total, credited_tax = credited_totals(invoice.id)
    subtotal = sum(amount for _, amount in chosen)
    tax_left = invoice.tax - credited_tax
    tax = tax_left if complete else min(tax_left, tax_for(subtotal, invoice.tax_rate_bps))
    total = subtotal + tax
    if credited_total + total > invoice.amount_paid:
        raise DomainError("That is more than was paid on this invoice.", field="lines")
    refund = None
    if payment is not None:
        if total > refundable_amount(payment):
            raise DomainError(
                f"That is more than is left to refund of this payment ({refundable_amount(payment) / 100:.2f}).",
                field="lines",
            )
        refund = _refund(payment, total, destination, reason, reference)
    if refund is None or refund.destination == TO_CREDIT:
        _credit_balance(invoice, total, reason, actor)
    note = _create_note(invoice, actor, reason, chosen, subtotal, tax, refund, destination)
    if complete:
        transition(invoice, REFUNDED, actor, credit_note=note.number)
    _release_credited_lines(invoice, actor)  # a line credited in full, by this note or with earlier ones
    return note


def _refund(payment: Payment, amount: int, destination: str, reason: str, reference: str | None) -> Refund:
    from webapp.billing.providers import provider_for

    provider = provider_for(payment.provider)
    if provider.refunds == "credit":
        destination = TO_CREDIT
    key = f"tessera-refund-{secrets.token_hex(12)}"
    refund = Refund(
        organization_id=payment.organization_id,
        payment_id=payment.id,
        invoice_id=payment.invoice_id,
        amount=amount,
        currency=payment.currency,
        destination=destination,
        provider=payment.provider if destination == TO_PROVIDER else "credit",
        idempotency_key=key,
        status=REFUND_PENDING,
        reason=reason[:1000],
    )
    if destination == TO_PROVIDER:
        # Stripe refunds now (the payment row is locked, so its webhook waits for this commit);
        # Paynow and manual payments need the reference of the refund a person made.
        result = provider.refund(payment, amount, key=key, reason=reason, reference=reference)
        refund.provider_reference, refund.status = result.reference, result.status
    else:
        refund.status = REFUND_SUCCEEDED
    db.session.add(refund)
    db.session.flush()
    _after_refund(payment, refund)
    return refund


def _after_refund(payment: Payment, refund: Refund) -> None:
    record(
        None,
        "payment.refund_recorded",
        payment,
        {"amount": refund.amount, "destination": refund.destination, "reference": refund.provider_reference},
    )
    emit(
        "payment.refunded",
        org=payment.organization_id,
        payment_id=payment.id,
        invoice_id=payment.invoice_id,
        refund_id=refund.id,
        amount=refund.amount,
        destination=refund.destination,
    )
    if refunded_amount(payment.id) >= (payment.applied_amount or payment.amount):
        settle_payment(payment, PAY_REFUNDED, external_status=payment.external_status)


def _credit_balance(invoice: Invoice, amount: int, reason: str, actor) -> None:
    account = get_existing(BillingAccount, invoice.account_id)
    db.session.add(
        Credit(
            organization_id=invoice.organization_id,
            account_id=account.id,
            invoice_id=invoice.id,
            kind=CREDIT_NOTE,
            amount=amount,
            currency=invoice.currency,
            reason=reason[:1000],
            issued_by_id=getattr(actor, "id", None),
        )
    )
    _add_credit_balance(account, amount)


def _create_note(invoice, actor, reason, chosen, subtotal, tax, refund, destination) -> CreditNote:
    now = utcnow()
    note = CreditNote(
        organization_id=invoice.organization_id,
        account_id=invoice.account_id,
        invoice_id=invoice.id,
        refund_id=getattr(refund, "id", None),
        number=allocate_numbers(now.year, 1, counter=CreditNoteNumberCounter, prefix="CN")[0],
        currency=invoice.currency,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        reason=reason[:1000],
        destination=refund.destination if refund is not None else destination,
        issued_at=now,
        issued_by_id=getattr(actor, "id", None),
        created_by_id=getattr(actor, "id", None),
    )
    for line, amount in chosen:
        description = line.description if isinstance(line, InvoiceLineItem) else line
        note.lines.append(
            CreditNoteLine(
                invoice_line_id=line.id if isinstance(line, InvoiceLineItem) else None,
                description=description[:300],
                amount=amount,
            )
        )
    db.session.add(note)
    db.session.flush()
    record(
        actor,
        "credit_note.issued",
        note,
        {"number": note.number, "invoice": invoice.number, "total": note.total, "destination": note.destination},
    )
    emit(
        "credit_note.created",
        org=invoice.organization_id,
        actor=actor,
        credit_note_id=note.id,
        invoice_id=invoice.id,
        total=note.total,
        destination=note.destination,
    )
    from webapp.billing.payment_jobs import send_credit_note_email

    send_credit_note_email.delay(note.id)
    return note


def _release_credited_lines(invoice: Invoice, actor) -> None:
    """Give the billed period of every fully credited line back (a partial credit keeps it billed)."""
    from webapp.billing.services.periods import release_billed_period as release

    done = credited_by_line(invoice.id)
    for line in invoice.lines:
        if line.total > 0 and done.get(line.id, 0) >= line.total:
            release(line, actor=actor)


def refund_payment(
    payment: Payment,
    actor,
    reason: str,
    *,
    lines: dict[int, int] | None = None,
    destination: str = TO_PROVIDER,
    reference: str | None = None,
) -> CreditNote:
    """Refund (part of) a payment: the credit note of ``lines`` of its invoice, refunded to
    ``destination``. ``lines`` None credits everything left, which must fit in the payment."""
    if payment.invoice_id is None:
        raise DomainError("This payment is not on an invoice.")
    invoice = get_existing(Invoice, payment.invoice_id)
    return issue_credit_note(
        invoice, actor, reason, lines=lines, payment=payment, destination=destination, reference=reference
    )


def record_provider_refund(payment: Payment, refund_data: dict) -> bool:
    """``charge.refunded``: a refund Stripe reports. Ours is matched by its id or key; one made at
    Stripe directly is recorded with its credit note (one line, the tax worked back out of it)."""
    payment = _lock_payment(payment)
    refund_id = refund_data.get("id") or ""
    existing = db.session.scalar(
        select(Refund).where(Refund.provider == "stripe", Refund.provider_reference == refund_id)
    )
    if existing is None:
        key = (refund_data.get("metadata") or {}).get("tessera_refund_key")
        existing = db.session.scalar(select(Refund).where(Refund.idempotency_key == key)) if key else None
    status = {"succeeded": REFUND_SUCCEEDED, "failed": REFUND_FAILED, "canceled": REFUND_FAILED}.get(
        str(refund_data.get("status")), REFUND_PENDING
    )
    if existing is not None:
        if existing.status == status:
            return False
        existing.status = status
        existing.provider_reference = existing.provider_reference or refund_id
        return True
    amount = int(refund_data.get("amount") or 0)
    invoice = _lock_invoice(payment.invoice) if payment.invoice is not None else None
    if invoice is None or amount <= 0 or invoice.status != PAID:
        return False
    credited_total, credited_tax = credited_totals(invoice.id)
    amount = min(amount, invoice.amount_paid - credited_total)
    if amount <= 0:
        return False
    subtotal = (amount * 10_000 * 2 + (10_000 + invoice.tax_rate_bps)) // ((10_000 + invoice.tax_rate_bps) * 2)
    tax = min(amount - subtotal, invoice.tax - credited_tax)
    subtotal = amount - tax
    refund = Refund(
        organization_id=payment.organization_id,
        payment_id=payment.id,
        invoice_id=invoice.id,
        amount=amount,
        currency=payment.currency,
        destination=TO_PROVIDER,
        provider="stripe",
        provider_reference=refund_id,
        idempotency_key=f"stripe-{refund_id}"[:64],
        status=status,
        reason="Refunded at Stripe",
    )
    db.session.add(refund)
    db.session.flush()
    _after_refund(payment, refund)
    line = (f"Refund {refund_id} made at Stripe", subtotal)
    note = _create_note(invoice, None, "Refunded at Stripe", [line], subtotal, tax, refund, TO_PROVIDER)
    if credited_total + amount >= invoice.total:
        transition(invoice, REFUNDED, None, credit_note=note.number)
    return True


# --- immutability in the ORM ---------------------------------------------------------------------


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_issued_notes(session: Session, flush_context, instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, CreditNote) and not inspect(obj).pending:
            state = inspect(obj)
            changed = [c for c in CREDIT_NOTE_FROZEN if state.attrs[c].history.has_changes()]
            if changed:
                raise CreditNoteIssued(f"Credit note {obj.number} is issued; {', '.join(changed)} cannot change.")
        if isinstance(obj, CreditNoteLine) and session.is_modified(obj):
            raise CreditNoteIssued("The lines of an issued credit note cannot change.")
    for obj in session.deleted:
        if isinstance(obj, CreditNote | CreditNoteLine):
            raise CreditNoteIssued("An issued credit note cannot be deleted.")
    for obj in session.new:
        if isinstance(obj, CreditNoteLine):
            note = obj.credit_note
            if note is not None and inspect(note).persistent:
                raise CreditNoteIssued(f"Credit note {note.number} is issued; no line can be added.")
