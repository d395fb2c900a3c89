"""The billing run: one invoice per active account and period, a line per active service (prorated
by day) plus the lines other domains contribute through ``BILLING_RUN_SOURCES``; finalized and
e-mailed. Idempotent per account and period (a unique constraint backs it up).

The run works in batches of accounts with set-based statements (bulk inserts, one number-range
allocation per batch, bulk updates), committing after each batch so progress is visible live.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import lazyload

from webapp.audit.models import AuditEntry
from webapp.billing.models import (
    ACCOUNT_ACTIVE,
    ACCOUNT_OVERDUE,
    DRAFT,
    ISSUED,
    PAID,
    SERVICE_ACTIVE,
    SERVICE_CANCELLED,
    BillingAccount,
    BillingRun,
    Invoice,
    InvoiceLineItem,
    Service,
)
from webapp.billing.services.invoices import LineSpec, allocate_numbers, finalization_values, tax_for
from webapp.core import display
from webapp.core.errors import DomainError
from webapp.core.events import emit
from webapp.core.models import utcnow
from webapp.core.money import prorate
from webapp.extensions import db
from webapp.settings import get

# Other domains append ``source(account, period_start, period_end) -> list[LineSpec]``.
BILLING_RUN_SOURCES: list[Callable] = []
# Faster for large runs: ``source(accounts, period_start, period_end) -> {account_id: [LineSpec, ...]}``,
# called once per batch of up to 500 accounts.
BILLING_RUN_BATCH_SOURCES: list[Callable] = []

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_period(text: str) -> tuple[date, date]:
    match = _PERIOD.match((text or "").strip())
    if not match:
        raise DomainError("Give the period as YYYY-MM, e.g. 2026-11.", field="period")
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def previous_period(today: date) -> str:
    first = today.replace(day=1) - timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def service_lines(service: Service, start: date, end: date) -> list[LineSpec]:
    """The service's line for the period, prorated by day when it started or stopped inside it."""
    period_days = (end - start).days + 1
    first = max(start, service.activated_at.astimezone(UTC).date())
    last = end
    if service.cancelled_at is not None:
        last = min(end, service.cancelled_at.astimezone(UTC).date() - timedelta(days=1))
    used = (last - first).days + 1
    if used <= 0:
        return []
    label = f"{service.name} ({display.label(service.type)}) {start:%b %Y}"
    if used >= period_days:
        return [LineSpec(label, 1, service.monthly_fee, service_id=service.id)]
    amount = prorate(service.monthly_fee, used, period_days)
    return [LineSpec(f"{label}, {used} of {period_days} days", 1, amount, service_id=service.id)]


def start_billing_run(period: str, actor=None) -> BillingRun:
    """Create the run row and queue the job (staff button and monthly schedule)."""
    parse_period(period)
    run = BillingRun(period=period, started_by_id=getattr(actor, "id", None), status=BillingRun.QUEUED)
    db.session.add(run)
    db.session.flush()
    from webapp.audit import record
    from webapp.billing.jobs import billing_run_job

    record(actor, "billing_run.started", run, {"period": period})
    billing_run_job.delay(run.id)
    return run


def run_billing(
    period: str,
    *,
    run: BillingRun | None = None,
    batch_size: int = 500,
    commit: bool = False,
    send_emails: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> BillingRun:
    """Bill every ACTIVE/OVERDUE account for ``period``. With ``commit=True`` each batch commits."""
    start, end = parse_period(period)
    if run is None:
        run = BillingRun(period=period, status=BillingRun.QUEUED)
        db.session.add(run)
    run.mark_running()
    db.session.flush()
    billable = (ACCOUNT_ACTIVE, ACCOUNT_OVERDUE)
    total = db.session.scalar(
        select(db.func.count()).select_from(BillingAccount).where(BillingAccount.status.in_(billable))
    )
    counts = {"accounts": 0, "invoices": 0, "already_billed": 0, "nothing_to_bill": 0}
    last_id = 0
    try:
        while True:
            accounts = list(
                db.session.scalars(
                    select(BillingAccount)
                    .options(lazyload(BillingAccount.organization))
                    .where(BillingAccount.status.in_(billable), BillingAccount.id > last_id)
                    .order_by(BillingAccount.id)
                    .limit(batch_size)
                )
            )
            if not accounts:
                break
            last_id = accounts[-1].id
            made, skipped, empty = _bill_batch(accounts, period, start, end, send_emails)
            counts["accounts"] += len(accounts)
            counts["invoices"] += made
            counts["already_billed"] += skipped
            counts["nothing_to_bill"] += empty
            run.counts = dict(counts)
            run.report_progress(counts["accounts"], total or 1)
            if commit:
                db.session.commit()
            if progress:
                progress(counts["accounts"], total or 0)
    except Exception as exc:
        db.session.rollback()
        run = db.session.merge(run)
        run.counts = dict(counts)
        run.add_error(str(exc))
        run.mark_finished(BillingRun.FAILED, str(exc))
        if commit:
            db.session.commit()
        raise
    run.mark_finished(BillingRun.SUCCEEDED)
    return run


def _bill_batch(accounts: list[BillingAccount], period: str, start: date, end: date, send_emails: bool):
    ids = [a.id for a in accounts]
    org_ids = [a.organization_id for a in accounts]
    billed = set(
        db.session.scalars(select(Invoice.account_id).where(Invoice.account_id.in_(ids), Invoice.run_period == period))
    )
    end_excl = _day_start(end + timedelta(days=1))
    services_by_org: dict[int, list[Service]] = defaultdict(list)
    for service in db.session.scalars(
        select(Service)
        .where(
            Service.organization_id.in_(org_ids),
            Service.status.in_((SERVICE_ACTIVE, SERVICE_CANCELLED)),
            Service.activated_at < end_excl,
            or_(Service.cancelled_at.is_(None), Service.cancelled_at > _day_start(start)),
        )
        .order_by(Service.id)
    ):
        services_by_org[service.organization_id].append(service)

    rate = int(get("billing.tax_rate_bps"))
    now = utcnow()
    plans: list[tuple[BillingAccount, list[LineSpec]]] = []
    empty = 0
    pending = [a for a in accounts if a.id not in billed]
    batch_lines: dict[int, list[LineSpec]] = defaultdict(list)
    for batch_source in BILLING_RUN_BATCH_SOURCES:
        for account_id, specs in (batch_source(pending, start, end) or {}).items():
            batch_lines[account_id].extend(specs)
    for account in accounts:
        if account.id in billed:
            continue
        lines: list[LineSpec] = []
        for service in services_by_org.get(account.organization_id, ()):
            lines.extend(service_lines(service, start, end))
        for source in BILLING_RUN_SOURCES:
            lines.extend(source(account, start, end) or [])
        lines.extend(batch_lines.get(account.id, ()))
        if not lines:
            empty += 1
            continue
        plans.append((account, lines))
    if not plans:
        return 0, len(billed), empty

    invoice_rows = []
    for account, lines in plans:
        subtotal = sum(line.quantity * line.unit_price for line in lines)
        tax = tax_for(subtotal, rate)
        total = max(0, subtotal + tax)
        invoice_rows.append(
            {
                "organization_id": account.organization_id,
                "account_id": account.id,
                "status": DRAFT,
                "currency": account.currency,
                "period_start": start,
                "period_end": end,
                "run_period": period,
                "subtotal": subtotal,
                "tax_rate_bps": rate,
                "tax": tax,
                "total": total,
                "amount_paid": 0,
                "amount_due": total,
                "created_at": now,
                "updated_at": now,
            }
        )
    inserted = db.session.execute(
        insert(Invoice).returning(Invoice.id, sort_by_parameter_order=True), invoice_rows
    ).all()
    invoice_ids = [row[0] for row in inserted]
    line_rows = []
    for invoice_id, (_account, lines) in zip(invoice_ids, plans, strict=True):
        for line in lines:
            line_rows.append(
                {
                    "invoice_id": invoice_id,
                    "description": line.description[:300],
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                    "total": line.quantity * line.unit_price,
                    "service_id": line.service_id,
                    "metric": line.metric,
                    "subscription_id": line.subscription_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    db.session.execute(insert(InvoiceLineItem), line_rows)

    numbers = allocate_numbers(now.year, len(invoice_ids))
    updates, audits = [], []
    for invoice_id, number, row in zip(invoice_ids, numbers, invoice_rows, strict=True):
        values = finalization_values(now)
        status = ISSUED if row["total"] > 0 else PAID
        updates.append({"id": invoice_id, "number": number, "status": status, "updated_at": now, **values})
        if status == PAID:
            updates[-1]["paid_at"] = now
        audits.append(
            {
                "created_at": now,
                "actor_type": "system",
                "actor_id": None,
                "actor_label": "billing run",
                "organization_id": row["organization_id"],
                "action": "invoice.finalized",
                "entity_type": "Invoice",
                "entity_id": invoice_id,
                "details": {"number": number, "total": row["total"], "period": period, "from": DRAFT, "to": status},
            }
        )
    db.session.execute(update(Invoice), updates)
    db.session.execute(insert(AuditEntry), audits)
    for invoice_id, row in zip(invoice_ids, invoice_rows, strict=True):
        emit("invoice.issued", org=row["organization_id"], invoice_id=invoice_id, account_id=row["account_id"])
    if send_emails:
        from webapp.billing.jobs import send_invoice_emails

        payable = [u["id"] for u in updates if u["status"] == ISSUED]
        if payable:
            send_invoice_emails.delay(payable, "issued")
    return len(invoice_ids), len(billed), empty
