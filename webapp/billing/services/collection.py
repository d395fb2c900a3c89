"""Automatic collection: a finalized invoice of an account with a default card is charged by a job
(a PaymentIntent off session, with an idempotency key). A failed charge is retried on a schedule
(``billing.collection_retry_days``, days after the first attempt: 3, 5 and 7 by default, so with the
default 14-day terms every retry happens before the due date); after the last one dunning takes
over. Each attempt is a row shown on the invoice and an audit entry; each failure e-mails the
customer a link to pay another way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from webapp.audit import record
from webapp.billing.models import OPEN_STATUSES, PAY_FAILED, PAY_PAID, PAY_PENDING, Invoice, Payment
from webapp.billing.payment_models import (
    ATTEMPT_FAILED,
    ATTEMPT_PENDING,
    ATTEMPT_SUCCEEDED,
    METHOD_ACTIVE,
    CollectionAttempt,
    PaymentMethod,
)
from webapp.core.events import emit
from webapp.core.models import get_existing, utcnow
from webapp.extensions import db
from webapp.settings import define, get

define(
    "billing.collection_retry_days",
    str,
    "3,5,7",
    "Days after the first failed automatic charge on which to try again, comma-separated",
)
DEFAULT_SCHEDULE = (3, 5, 7)


def retry_schedule() -> list[int]:
    """The retry days, ascending; an unreadable setting falls back to 3, 5, 7."""
    try:
        days = sorted({int(part) for part in str(get("billing.collection_retry_days")).split(",") if part.strip()})
    except ValueError:
        return list(DEFAULT_SCHEDULE)
    return [d for d in days if 0 < d <= 365] or list(DEFAULT_SCHEDULE)


def attempts_of(invoice_id: int) -> list[CollectionAttempt]:
    return list(
        db.session.scalars(
            select(CollectionAttempt)
            .where(CollectionAttempt.invoice_id == invoice_id)
            .order_by(CollectionAttempt.number)
        )
    )


def _latest(invoice_id: int) -> CollectionAttempt | None:
    return db.session.scalar(
        select(CollectionAttempt)
        .where(CollectionAttempt.invoice_id == invoice_id)
        .order_by(CollectionAttempt.number.desc())
        .limit(1)
    )


def invoices_due_for_collection(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Open invoices of accounts with a default card that were never tried (issued after the card was
    saved), or whose retry is due."""
    from webapp.orgs.suspension import suspended_ids

    now = now or utcnow()
    latest = (
        select(CollectionAttempt.invoice_id, func.max(CollectionAttempt.number).label("number"))
        .group_by(CollectionAttempt.invoice_id)
        .subquery()
    )
    last = CollectionAttempt.__table__.alias("last_attempt")
    stmt = (
        select(Invoice.id)
        .join(
            PaymentMethod,
            (PaymentMethod.account_id == Invoice.account_id)
            & PaymentMethod.is_default.is_(True)
            & (PaymentMethod.status == METHOD_ACTIVE),
        )
        .outerjoin(latest, latest.c.invoice_id == Invoice.id)
        .outerjoin(last, (last.c.invoice_id == Invoice.id) & (last.c.number == latest.c.number))
        .where(
            Invoice.status.in_(OPEN_STATUSES),
            Invoice.amount_due > 0,
            Invoice.finalized_at.is_not(None),
            Invoice.organization_id.not_in(suspended_ids()),
            # A first attempt only for invoices issued once the card was saved: saving a card does not
            # charge what was already open (the customer pays those from the invoice page).
            ((latest.c.number.is_(None)) & (Invoice.issued_at >= PaymentMethod.created_at))
            | ((last.c.status == ATTEMPT_FAILED) & (last.c.next_attempt_at <= now)),
        )
        .order_by(Invoice.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def collect_invoice(invoice_id: int, now: datetime | None = None, *, actor=None, force: bool = False):
    """Charge the invoice to the account's default card if an attempt is due (``force``: staff's
    "charge now", which skips the wait but not the rules). Returns the attempt, or None."""
    from webapp.billing.providers import provider_for
    from webapp.billing.services.payment_methods import default_method

    now = now or utcnow()
    from webapp.orgs.suspension import skip_if_suspended

    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.status not in OPEN_STATUSES or invoice.amount_due <= 0:
        return None
    if skip_if_suspended(invoice.organization_id, f"collection of invoice {invoice_id}"):
        return None  # no attempt recorded: it is still due once the organization is reactivated
    method = default_method(invoice.account_id)
    if method is None:
        return None
    latest = _latest(invoice.id)
    waiting = latest is not None and (latest.next_attempt_at is None or latest.next_attempt_at > now)
    if latest is not None and (latest.status != ATTEMPT_FAILED or (waiting and not force)):
        return None
    pending = db.session.scalar(
        select(Payment.id).where(
            Payment.invoice_id == invoice.id, Payment.status == PAY_PENDING, Payment.provider == "stripe"
        )
    )
    if pending is not None:
        return None  # a card payment is under way: never charge twice at once
    attempt = CollectionAttempt(
        organization_id=invoice.organization_id,
        invoice_id=invoice.id,
        payment_method_id=method.id,
        number=(latest.number if latest else 0) + 1,
        status=ATTEMPT_PENDING,
        amount=invoice.amount_due,
        currency=invoice.currency,
        attempted_at=now,
    )
    db.session.add(attempt)
    db.session.flush()  # the unique (invoice, number) refuses a second job doing the same at once
    record(actor, "collection.attempted", invoice, {"attempt": attempt.number, "card": method.label})
    provider_for(method.provider).charge(invoice, method, off_session=True, attempt=attempt)
    return db.session.get(CollectionAttempt, attempt.id)


def attempt_settled(payment: Payment) -> None:
    """Called whenever a Stripe payment moves: bring its collection attempt along."""
    attempt = db.session.scalar(select(CollectionAttempt).where(CollectionAttempt.payment_id == payment.id))
    if attempt is None or attempt.status != ATTEMPT_PENDING:
        return
    invoice = get_existing(Invoice, attempt.invoice_id)
    if payment.status == PAY_PAID:
        attempt.status = ATTEMPT_SUCCEEDED
        record(None, "collection.succeeded", invoice, {"attempt": attempt.number, "payment_id": payment.id})
        return
    if payment.status != PAY_FAILED:
        return
    attempt.status = ATTEMPT_FAILED
    attempt.error_code = (payment.external_status or "declined")[:64]
    attempt.error_message = payment.error_message
    schedule = retry_schedule()
    first = db.session.scalar(
        select(CollectionAttempt.attempted_at).where(
            CollectionAttempt.invoice_id == attempt.invoice_id, CollectionAttempt.number == 1
        )
    )
    final = attempt.number > len(schedule)
    attempt.next_attempt_at = (
        None if final else (first or attempt.attempted_at) + timedelta(days=schedule[attempt.number - 1])
    )
    db.session.flush()
    record(
        None,
        "collection.failed",
        invoice,
        {
            "attempt": attempt.number,
            "error": attempt.error_code,
            "next_attempt_at": attempt.next_attempt_at.isoformat() if attempt.next_attempt_at else None,
        },
    )
    emit(
        "invoice.collection_failed",
        org=invoice.organization_id,
        invoice_id=invoice.id,
        subscription_id=invoice.subscription_id,
        attempt=attempt.number,
        final=final,
    )
    from webapp.billing.payment_jobs import send_collection_failed_email

    send_collection_failed_email.delay(attempt.id)


def collection_email(attempt: CollectionAttempt) -> None:
    """Tell the customer the card was not charged, when we try again, and how to pay another way."""
    from flask import url_for
    from flask_babel import lazy_gettext

    from webapp.billing.services import ensure_payment_link
    from webapp.core.money import format_amount
    from webapp.mail import send_email

    invoice = db.session.get(Invoice, attempt.invoice_id)
    if invoice is None or not invoice.is_open:
        return
    ensure_payment_link(invoice)
    org = invoice.organization
    card = attempt.payment_method.label if attempt.payment_method else lazy_gettext("your card")
    send_email(
        org.email,
        "billing/collection_failed",
        about=invoice,
        subject=lazy_gettext("We could not charge %(card)s for invoice %(number)s", card=card, number=invoice.number),
        org=org,
        org_name=org.name,
        invoice=invoice,
        attempt=attempt,
        card=card,
        amount=format_amount(attempt.amount, attempt.currency),
        pay_link=url_for("billing_public.pay", token=invoice.payment_token, _external=True),
        invoice_link=url_for("billing.invoice_detail", slug=org.slug, invoice_id=invoice.id, _external=True),
    )


def accounts_to_collect(account_ids) -> set[int]:
    """``should_collect`` for many accounts in one query: those with an active default card."""
    wanted = {a for a in account_ids if a is not None}
    if not wanted:
        return set()
    return set(
        db.session.scalars(
            select(PaymentMethod.account_id).where(
                PaymentMethod.account_id.in_(wanted),
                PaymentMethod.is_default.is_(True),
                PaymentMethod.status == METHOD_ACTIVE,
            )
        )
    )


def should_collect(account_id: int | None) -> bool:
    """One indexed query (the ``invoice.issued`` subscriber runs for every invoice of a billing run)."""
    if account_id is None:
        return False
    return (
        db.session.scalar(
            select(PaymentMethod.id)
            .where(
                PaymentMethod.account_id == account_id,
                PaymentMethod.is_default.is_(True),
                PaymentMethod.status == METHOD_ACTIVE,
            )
            .limit(1)
        )
        is not None
    )
