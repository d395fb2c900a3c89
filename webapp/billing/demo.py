"""Demo billing: services, a paid, a partial, an overdue and a draft invoice, payments of every
method, and a credit, for the demo organizations (idempotent: skipped once services exist)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from webapp.billing import services as billing
from webapp.billing.models import Service
from webapp.core.models import utcnow
from webapp.demo import step
from webapp.extensions import db
from webapp.orgs.demo import demo_org

PLANS: dict[str, dict[str, Any]] = {
    "harare-retail": {
        "services": [
            ("POS_TERMINAL", "POS Terminal #1 (Sam Levy's)", "PAX-A920-0001", 3_500),
            ("POS_TERMINAL", "POS Terminal #2 (Avondale)", "PAX-A920-0002", 3_500),
            ("POS_MAINTENANCE", "Maintenance plan", None, 1_500),
        ],
        "paid": [("PAYNOW_ECOCASH", 1.0)],
        "paid_split": [("BANK_TRANSFER", 0.5), ("CASH", 1.0)],
        "partial": "PAYNOW_VISA",
    },
    "bulawayo-foods": {
        "services": [
            ("POS_TERMINAL", "POS Terminal (Main St)", "PAX-A80-7781", 3_000),
            ("POS_MAINTENANCE", "Maintenance plan", None, 1_200),
        ],
        "paid": [("PAYNOW_ONEMONEY", 1.0)],
        "paid_split": [("PAYNOW_INNBUCKS", 0.5), ("PAYNOW_MASTERCARD", 1.0)],
        "partial": "BANK_TRANSFER",
    },
}


def _month(offset: int) -> tuple[date, date]:
    today = utcnow().date().replace(day=1)
    year, month = today.year, today.month + offset
    while month < 1:
        year, month = year - 1, month + 12
    start = date(year, month, 1)
    end = (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)
    return start, end


def _invoice(account, services, offset, issued_at):
    start, end = _month(offset)
    invoice = billing.create_draft_invoice(account, period_start=start, period_end=end)
    for service in services:
        billing.add_line_item(invoice, f"{service.name} {start:%b %Y}", 1, service.monthly_fee, service=service)
    if issued_at is not None:
        billing.finalize_invoice(invoice, None, send_email=False, at=issued_at)
    return invoice


def _pay(invoice, method, share, n):
    amount = max(1, int(invoice.total * share)) if share < 1 else invoice.amount_due
    if method in ("BANK_TRANSFER", "CASH"):
        return billing.record_manual_payment(invoice, None, amount, method, f"DEMO-{invoice.number}-{n}")
    return billing.apply_payment(
        invoice,
        amount,
        method,
        provider="paynow",
        external_reference=f"DEMO-{invoice.number}-{n}",
        external_status="Paid",
    )


@step(order=30)
def billing_demo() -> None:
    now = utcnow()
    for slug, plan in PLANS.items():
        org = demo_org(slug)
        if org is None:
            continue
        if db.session.scalar(select(Service.id).where(Service.organization_id == org.id).limit(1)):
            continue  # already seeded
        account = billing.billing_account_for(org)
        services = [
            billing.create_service(
                org,
                None,
                type=t,
                name=name,
                hardware_serial=serial,
                monthly_fee=fee,
                activated_at=datetime(now.year - 1, 1, 1, tzinfo=UTC),
            )
            for t, name, serial, fee in plan["services"]
        ]
        # A year of history: each month billed through the same path and paid a few days after issue.
        for offset in range(-11, -4):
            start, _ = _month(offset)
            issued = datetime(start.year, start.month, 1, 6, tzinfo=UTC)
            old = _invoice(account, services, offset, issued)
            _pay(old, plan["paid"][0][0], 1.0, 0)
            backdate_paid(old, issued + timedelta(days=4 + offset % 5))
        split = _invoice(account, services, -4, now - timedelta(days=100))
        for n, (method, share) in enumerate(plan["paid_split"]):
            _pay(split, method, share, n)
        backdate_paid(split, now - timedelta(days=95))
        paid = _invoice(account, services, -3, now - timedelta(days=70))
        for n, (method, share) in enumerate(plan["paid"]):
            _pay(paid, method, share, n)
        backdate_paid(paid, now - timedelta(days=64))
        overdue = _invoice(account, services, -2, now - timedelta(days=19))  # due 5 days ago
        partial = _invoice(account, services, -1, now - timedelta(days=3))
        _pay(partial, plan["partial"], 0.4, 0)
        billing.issue_credit(account, None, 1_000, "Terminal #2 was offline for two days", invoice=partial)
        _invoice(account, services, 0, None)  # this month's draft
        db.session.flush()
        assert overdue.status == "ISSUED"
    billing.run_dunning(now)


@step(order=98)
def suspended_organization_billing() -> None:
    """What a staff suspension pauses, to see (after ``orgs.demo.suspended_organization``): Mutare
    Hardware's terminal, which the billing run reports as "suspended", and an invoice staff finalized
    afterwards whose e-mail waits HELD in the e-mail log until reactivation."""
    from webapp.orgs.demo import SUSPENDED_SLUG

    org = demo_org(SUSPENDED_SLUG)
    if org is None or not org.is_suspended:
        return
    if db.session.scalar(select(Service.id).where(Service.organization_id == org.id).limit(1)):
        return  # already seeded
    now = utcnow()
    billing.create_service(
        org,
        None,
        type="POS_TERMINAL",
        name="POS Terminal (Herbert Chitepo St)",
        hardware_serial="PAX-A920-0417",
        monthly_fee=3_500,
        activated_at=now - timedelta(days=75),
    )
    first = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    invoice = billing.create_draft_invoice(
        billing.billing_account_for(org), period_start=first, period_end=now.date().replace(day=1) - timedelta(days=1)
    )
    billing.add_line_item(invoice, "Installation visit", 1, 5_000)
    billing.finalize_invoice(invoice, None)


# Payments (saved cards, automatic collection, a credit note) add their own demo step.
from webapp.billing import history_demo, payment_demo  # noqa: E402,F401
from webapp.billing.history_demo import backdate_paid  # noqa: E402
