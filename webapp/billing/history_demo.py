"""Demo with a past: twelve months of customers subscribing, paying every month and churning, so the
business view's MRR, collected and churn charts show a trend (idempotent: skipped once the first history
organization exists).

Everything goes through the services a real month takes — organizations, subscriptions, draft invoices
whose subscription lines are claimed in the billed-once ledger, finalization (backdated with ``at``) and
payments — and only the moments are moved into the past: a subscription's start and end, a payment's
completion (fields a month-by-month import would set the same way)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from webapp.billing import services as billing
from webapp.billing.demo import _month
from webapp.core.models import utcnow
from webapp.demo import step
from webapp.extensions import db
from webapp.orgs import services as orgs
from webapp.orgs.demo import demo_org, demo_user

HISTORY_OWNER = "rudo@books.example"
# name, slug, city, plan, month it started (months ago), month it churned (months ago) or None, method
HISTORY = [
    ("Mutare Hardware", "mutare-hardware", "Mutare", "TEAM_STANDARD", 11, None, "PAYNOW_ECOCASH"),
    ("Gweru Pharmacy", "gweru-pharmacy", "Gweru", "TEAM_STANDARD", 10, 4, "BANK_TRANSFER"),
    ("Masvingo Motors", "masvingo-motors", "Masvingo", "TEAM_PREMIUM", 9, None, "PAYNOW_VISA"),
    ("Kwekwe Bakery", "kwekwe-bakery", "Kwekwe", "TEAM_STANDARD", 8, 2, "CASH"),
    ("Victoria Falls Lodges", "vic-falls-lodges", "Victoria Falls", "TEAM_PREMIUM", 4, None, "PAYNOW_MASTERCARD"),
    ("Marondera Farms", "marondera-farms", "Marondera", "TEAM_STANDARD", 1, None, "PAYNOW_INNBUCKS"),
]


def _at(months_ago: int, day: int, hour: int = 9) -> datetime:
    start, _ = _month(-months_ago)
    return datetime(start.year, start.month, day, hour, tzinfo=UTC)


def _paid(invoice, method: str, when: datetime) -> None:
    reference = f"HIST-{invoice.number}"
    if method in ("BANK_TRANSFER", "CASH"):
        payment = billing.record_manual_payment(invoice, None, invoice.amount_due, method, reference)
    else:
        payment = billing.apply_payment(
            invoice, invoice.amount_due, method, provider="paynow", external_reference=reference, external_status="Paid"
        )
    payment.created_at = payment.completed_at = when
    invoice.paid_at = when


def backdate_paid(invoice, when: datetime) -> None:
    """The demo's own paid invoices were paid when they were due, not the day the demo was loaded."""
    from webapp.billing.models import Payment

    for payment in db.session.scalars(select(Payment).where(Payment.invoice_id == invoice.id)):
        payment.created_at = payment.completed_at = when
    if invoice.paid_at is not None:
        invoice.paid_at = when


@step(order=45)
def business_history() -> None:
    from webapp.subscriptions.catalog import catalog_plan
    from webapp.subscriptions.services import FREE, _new_subscription, current_subscription

    if demo_org(HISTORY[0][1]) is not None:
        return
    now = utcnow()
    for slug in ("harare-retail", "bulawayo-foods"):  # customers since a year ago
        org = demo_org(slug)
        if org is not None and not current_subscription(org).plan.is_free:
            current_subscription(org).created_at = _at(11, 2)
    # One bookkeeper runs the small customers' accounts: one sign-up, not one per business.
    owner = demo_user(HISTORY_OWNER, "Rudo Chikwanha")
    for name, slug, city, code, started, churned, method in HISTORY:
        org = orgs.create_organization(owner, name, slug, f"accounts@{slug}.example", "ZW", "Africa/Harare")
        org.address_line, org.city, org.phone = f"{10 + len(name)} Main Street", city, "+263 77 000 0000"
        plan = catalog_plan(code)
        sub = current_subscription(org)
        begin = _at(started, 3)
        sub.plan_id, sub.plan, sub.status, sub.amount = plan.id, plan, "ACTIVE", plan.price("MONTHLY")
        sub.trial_start = sub.trial_end = None
        sub.created_at = begin
        account = billing.billing_account_for(org)
        last = churned or 0
        for months_ago in range(started, last - 1 if churned is None else last, -1):
            start, end = _month(-months_ago)
            invoice = billing.create_draft_invoice(account, period_start=start, period_end=end, subscription_id=sub.id)
            billing.add_line_item(invoice, f"{plan.name} {start:%b %Y}", 1, sub.amount, subscription_id=sub.id)
            issued = _at(months_ago, 1, 6)
            billing.finalize_invoice(invoice, None, send_email=False, at=max(issued, begin))
            if months_ago > 0 or churned is not None:
                _paid(invoice, method, min(_at(months_ago, 6 + len(slug) % 7), now))
        first_day, last_day = _month(-last)
        sub.current_period_start = datetime.combine(first_day, datetime.min.time(), UTC)
        sub.current_period_end = datetime.combine(last_day, datetime.min.time(), UTC) + timedelta(days=1)
        if churned is not None:
            ended = _at(churned, 5)
            sub.status, sub.canceled_at, sub.ended_at = "CANCELED", ended - timedelta(days=20), ended
            db.session.flush()
            free = _new_subscription(org, catalog_plan(FREE), "MONTHLY", ended)
            free.created_at = ended
        db.session.flush()
