"""Billing jobs: invoice e-mails, the billing run, daily dunning (payments' jobs: ``payment_jobs``)."""

from __future__ import annotations

import logging

from flask import url_for
from flask_babel import LazyString, lazy_gettext
from sqlalchemy import select

from webapp.billing.models import BillingAccount, BillingRun, Invoice
from webapp.core.models import get_existing, utcnow
from webapp.core.terms import N_
from webapp.extensions import db
from webapp.jobs import job, lease, periodic

log = logging.getLogger(__name__)

# Lazy: each subject is written when the e-mail is, in its recipient's language (``send_email``).
SUBJECTS = {
    "issued": N_("Invoice %(number)s from Tessera: %(amount)s due %(due)s"),
    "reminder": N_("Reminder: invoice %(number)s (%(amount)s) is due %(due)s"),
    "overdue": N_("Overdue: invoice %(number)s (%(amount)s) was due %(due)s"),
    "receipt": N_("Receipt: invoice %(number)s is paid"),
}


def _due_date(when) -> str:
    """ "04 Dec 2026" in English (as the subjects always read), "2026年12月4日" in Japanese."""
    from webapp.core.i18n import is_english, language

    if is_english():
        return f"{when:%d %b %Y}"
    from babel.dates import format_date

    return format_date(when, "yyyy年M月d日", locale=language())


def _email_invoice(invoice: Invoice, kind: str) -> None:
    from webapp.billing.services import ensure_payment_link
    from webapp.core.templating import money
    from webapp.mail import send_email

    if kind not in SUBJECTS:
        raise ValueError(f"unknown invoice e-mail {kind!r}")
    if not invoice.is_finalized:
        log.warning("invoice %s: no %s e-mail for a draft", invoice.id, kind)
        return
    if kind != "receipt" and not invoice.is_open:
        log.info("invoice %s: no %s e-mail, it is %s since it was queued", invoice.id, kind, invoice.status)
        return
    ensure_payment_link(invoice)
    org = invoice.organization
    amount = LazyString(money, invoice.amount_due if kind != "receipt" else invoice.total, invoice.currency)
    due = LazyString(_due_date, invoice.due_at)
    subject = lazy_gettext(SUBJECTS[kind], number=invoice.number, amount=amount, due=due)
    pay_link = url_for("billing_public.pay", token=invoice.payment_token, _external=True) if invoice.is_open else None
    send_email(
        org.email,
        f"billing/{kind}",
        subject=subject,
        org=org,
        about=invoice,
        invoice=invoice,
        org_name=org.name,
        pay_link=pay_link,
        invoice_link=url_for("billing.invoice_detail", slug=org.slug, invoice_id=invoice.id, _external=True),
    )


@job(queue="email")
def send_invoice_email(invoice_id: int, kind: str) -> None:
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        log.info("invoice %s is gone: no %s e-mail", invoice_id, kind)
        return
    _email_invoice(invoice, kind)


@job(queue="email", timeout=3600)
def send_invoice_emails(invoice_ids: list[int], kind: str) -> None:
    for invoice in db.session.scalars(select(Invoice).where(Invoice.id.in_(invoice_ids))):
        _email_invoice(invoice, kind)


@job(queue="email")
def send_account_email(account_id: int, kind: str) -> None:
    from webapp.mail import send_email

    if kind != "suspended":
        raise ValueError(f"unknown account e-mail {kind!r}")
    account = db.session.get(BillingAccount, account_id)
    if account is None or account.status != "SUSPENDED":
        log.info("billing account %s is not suspended any more: no e-mail", account_id)
        return
    org = account.organization
    send_email(
        org.email,
        "billing/suspended",
        subject=lazy_gettext("%(org)s: services suspended for non-payment", org=org.name),
        org=org,
        about=account,
        org_name=org.name,
        billing_link=url_for("billing.overview", slug=org.slug, _external=True),
    )


@job(queue="billing", retries=1, timeout=3600)
def billing_run_job(run_id: int) -> None:
    from webapp.billing.services import run_billing

    # Under a lease: a second delivery while a worker runs it finds it taken; a dead worker's run is
    # queued again by the lease sweeper (billing skips accounts already billed for the period).
    owner = lease.claim(BillingRun, run_id, BillingRun.status.in_((BillingRun.QUEUED, BillingRun.RUNNING)))
    if owner is None:
        log.info("billing run %s is taken or finished: nothing to do", run_id)
        return
    run = get_existing(BillingRun, run_id)
    with lease.held(BillingRun, run_id, owner, max_seconds=billing_run_job.timeout):
        run_billing(run.period, run=run, commit=True)


@periodic("0 2 1 * *")
@job(queue="billing", retries=1, timeout=3600)
def monthly_billing_run() -> None:
    """On the 1st, bill the month that just ended (the run row first, so it runs under a lease)."""
    from webapp.billing.services import previous_period

    run = BillingRun(period=previous_period(utcnow().date()), status=BillingRun.QUEUED)
    db.session.add(run)
    db.session.commit()
    billing_run_job(run.id)


@lease.on_expiry(BillingRun)
def _billing_run_lease_expired(run: BillingRun) -> tuple[str, str]:
    if run.is_finished:
        return lease.RELEASED, ""
    done = f"{(run.counts or {}).get('accounts', 0)} accounts done"
    if lease.requeue_allowed(run):
        reason = (
            f"The worker stopped during the billing run ({done}); it was queued again "
            "(accounts already billed are skipped)."
        )
        run.status = BillingRun.QUEUED
        run.queued_at = utcnow()
        run.add_error(reason)
        billing_run_job.delay(run.id)
        return lease.REQUEUED, reason
    reason = (
        f"The worker stopped during the billing run ({done}) {lease.times(run.lease_expiries)}, "
        "so it is not queued again. "
        "Invoices already made stand; start the run again to bill the rest."
    )
    run.add_error(reason)
    run.mark_finished(BillingRun.FAILED, reason)
    return lease.FAILED, reason


@periodic("30 6 * * *")
@job(queue="billing")
def daily_dunning() -> None:
    from webapp.billing.services import run_dunning

    run_dunning()


# Payments' jobs (webhooks, automatic collection, reconciliation, card expiry) register here too.
from webapp.billing import payment_jobs  # noqa: E402,F401
