"""Payment jobs: handling recorded webhooks and callbacks, automatic collection and its retries,
reconciling payments whose provider never called back, card-expiry notices, credit-note e-mails."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import url_for
from sqlalchemy import select

from webapp.billing.models import PAY_PENDING, Payment
from webapp.core.events import Event, batch_form_of, subscribe
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.jobs import job, periodic

log = logging.getLogger(__name__)


@job(queue="billing", retries=5, backoff=(5, 30, 120, 600, 1800))
def handle_provider_event(event_id: int) -> None:
    from webapp.billing.providers import load_providers
    from webapp.billing.services.provider_events import handle_event

    load_providers()
    handle_event(event_id)


@job(queue="billing", retries=0)
def collect_invoice_job(invoice_id: int) -> None:
    from webapp.billing.services.collection import collect_invoice

    collect_invoice(invoice_id)


@periodic("*/15 * * * *")
@job(queue="billing", retries=0, timeout=3600)
def collect_due_invoices() -> int:
    """First attempts that were missed and retries whose day has come; one commit per invoice."""
    from webapp.billing.services.collection import collect_invoice, invoices_due_for_collection

    done = 0
    for invoice_id in invoices_due_for_collection():
        try:
            collect_invoice(invoice_id)
            db.session.commit()
            done += 1
        except Exception:
            db.session.rollback()
            log.exception("automatic collection of invoice %s failed", invoice_id)
    return done


@subscribe("invoice.issued")
def collect_when_issued(event: Event) -> None:
    """A finalized invoice of an account with a default card is charged right away, by a job."""
    from webapp.billing.services.collection import should_collect

    if should_collect(event.data.get("account_id")):
        collect_invoice_job.delay(event.data["invoice_id"])


@batch_form_of(collect_when_issued)
def collect_when_issued_many(events: list[Event]) -> None:
    """The billing run's invoices: one query for the accounts with a default card."""
    from webapp.billing.services.collection import accounts_to_collect

    collect = accounts_to_collect(e.data.get("account_id") for e in events)
    for event in events:
        if event.data.get("account_id") in collect:
            collect_invoice_job.delay(event.data["invoice_id"])


@periodic("*/10 * * * *")
@job(queue="billing")
def poll_pending_payments() -> None:
    """Payments whose callback or webhook never came: ask their provider (recent ones only)."""
    from webapp.billing.providers import refresh_payment

    since = utcnow() - timedelta(days=2)
    ids = db.session.scalars(
        select(Payment.id).where(
            Payment.status == PAY_PENDING,
            Payment.provider.in_(("paynow", "stripe")),
            Payment.initiated_at > since,
        )
    ).all()
    for payment_id in ids:
        payment = db.session.get(Payment, payment_id)
        if payment is None:  # deleted since the query (an organization removed): nothing to refresh
            continue
        try:
            if _unanswered_charge(payment):
                continue
            refresh_payment(payment)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.info("payment %s could not be checked", payment_id, exc_info=True)


def _unanswered_charge(payment: Payment) -> bool:
    """A charge whose request Stripe never answered has no PaymentIntent id to ask about. Its webhook
    would have come within seconds; after an hour without one it is failed (its attempt then follows
    the retry schedule, with a new idempotency key)."""
    from webapp.billing.services import settle_payment

    if payment.provider != "stripe" or payment.external_reference or payment.external_status != "unknown":
        return False
    if payment.initiated_at > utcnow() - timedelta(hours=1):
        return True
    settle_payment(payment, "FAILED", external_status="no_answer", error="Stripe did not answer; nothing was charged.")
    from webapp.billing.services.collection import attempt_settled

    attempt_settled(payment)
    db.session.commit()
    return True


@periodic("0 7 * * *")
@job(queue="billing")
def card_expiry_notices() -> int:
    from webapp.billing.services.payment_methods import send_expiry_notices

    return send_expiry_notices()


@job(queue="email")
def send_collection_failed_email(attempt_id: int) -> None:
    from webapp.billing.payment_models import CollectionAttempt
    from webapp.billing.services.collection import collection_email

    attempt = db.session.get(CollectionAttempt, attempt_id)
    if attempt is not None:
        collection_email(attempt)


@job(queue="email")
def send_credit_note_email(credit_note_id: int) -> None:
    """The credit note to the organization with a link to its PDF; once (``emailed_at``)."""
    from flask_babel import LazyString, lazy_gettext

    from webapp.billing.payment_models import CreditNote
    from webapp.core.templating import money
    from webapp.mail import send_email

    note = db.session.get(CreditNote, credit_note_id)
    if note is None or note.emailed_at is not None:
        return
    org = note.invoice.organization
    send_email(
        org.email,
        "billing/credit_note",
        about=note,
        subject=lazy_gettext(
            "Credit note %(number)s for invoice %(invoice)s: %(total)s",
            number=note.number,
            invoice=note.invoice.number,
            total=LazyString(money, note.total, note.currency),
        ),
        org=org,
        org_name=org.name,
        note=note,
        pdf_link=url_for("billing.credit_note_pdf_view", slug=org.slug, credit_note_id=note.id, _external=True),
    )
    note.emailed_at = utcnow()
