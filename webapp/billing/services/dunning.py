"""Dunning: reminders before the due date, OVERDUE after it, SUSPENDED past the grace period."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from webapp.audit import record
from webapp.billing.models import (
    ACCOUNT_ACTIVE,
    ACCOUNT_OVERDUE,
    ACCOUNT_SUSPENDED,
    ISSUED,
    OVERDUE,
    PARTIAL,
    SERVICE_ACTIVE,
    BillingAccount,
    Invoice,
    Service,
)
from webapp.billing.services.catalog import suspend_service
from webapp.billing.services.invoices import ensure_payment_link, transition
from webapp.core.events import emit
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.settings import get


def run_dunning(now: datetime | None = None) -> dict:
    """One pass; safe to run twice (each step only touches rows not yet in the target state).
    A suspended organization's invoices and account wait (``orgs/suspension.py``)."""
    from webapp.billing.jobs import send_account_email, send_invoice_email
    from webapp.orgs.suspension import suspended_ids

    now = now or utcnow()
    counts = {"reminders": 0, "overdue": 0, "accounts_overdue": 0, "suspended": 0}

    reminder_days = int(get("billing.reminder_days_before_due"))
    if reminder_days > 0:
        due_soon = db.session.scalars(
            select(Invoice).where(
                Invoice.status.in_((ISSUED, PARTIAL)),
                Invoice.due_at > now,
                Invoice.due_at <= now + timedelta(days=reminder_days),
                Invoice.reminder_sent_at.is_(None),
                Invoice.organization_id.not_in(suspended_ids()),
            )
        ).all()
        for invoice in due_soon:
            invoice.reminder_sent_at = now
            ensure_payment_link(invoice)
            send_invoice_email.delay(invoice.id, "reminder")
            counts["reminders"] += 1

    past_due = db.session.scalars(
        select(Invoice)
        .where(
            Invoice.status.in_((ISSUED, PARTIAL)),
            Invoice.due_at < now,
            Invoice.organization_id.not_in(suspended_ids()),
        )
        .with_for_update()
    ).all()
    for invoice in past_due:
        transition(invoice, OVERDUE, None, due_at=invoice.due_at.isoformat() if invoice.due_at else None)
        invoice.overdue_at = now
        ensure_payment_link(invoice)
        emit("invoice.overdue", org=invoice.organization_id, invoice_id=invoice.id, account_id=invoice.account_id)
        send_invoice_email.delay(invoice.id, "overdue")
        counts["overdue"] += 1
    db.session.flush()

    oldest_due = (
        select(Invoice.account_id, func.min(Invoice.due_at).label("oldest"))
        .where(Invoice.status == OVERDUE)
        .group_by(Invoice.account_id)
        .subquery()
    )
    rows = db.session.execute(
        select(BillingAccount, oldest_due.c.oldest)
        .join(oldest_due, oldest_due.c.account_id == BillingAccount.id)
        .where(BillingAccount.organization_id.not_in(suspended_ids()))
    ).all()
    for account, oldest in rows:
        if account.status == ACCOUNT_ACTIVE:
            account.status = ACCOUNT_OVERDUE
            account.overdue_since = now
            record(None, "billing_account.overdue", account, {"oldest_due": oldest.isoformat()})
            emit("account.overdue", org=account.organization_id, account_id=account.id)
            counts["accounts_overdue"] += 1
        if account.status == ACCOUNT_OVERDUE and oldest + timedelta(days=account.grace_period_days) < now:
            suspend_account(account, now)
            send_account_email.delay(account.id, "suspended")
            counts["suspended"] += 1
    return counts


def suspend_account(account: BillingAccount, now: datetime | None = None, actor=None) -> BillingAccount:
    account.status = ACCOUNT_SUSPENDED
    account.suspended_at = now or utcnow()
    services = db.session.scalars(
        select(Service).where(Service.organization_id == account.organization_id, Service.status == SERVICE_ACTIVE)
    ).all()
    for service in services:
        suspend_service(service, actor, by_dunning=True)
    record(actor, "billing_account.suspended", account, {"services": len(services)})
    emit("account.suspended", org=account.organization_id, actor=actor, account_id=account.id)
    return account
