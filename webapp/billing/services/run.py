"""The billing run: per active account and period an invoice with a line per active service
(prorated by day) plus the lines other domains contribute through ``BILLING_RUN_SOURCES``; finalized
and e-mailed.

What may not be billed twice is a period of a billable thing, whatever made the invoice (issue 20):
every line goes through the rules of ``add_line_item`` (``create_drafts``, its batch form), which
claims its period in ``services/periods.py``, and a
service's days already billed by a live line (the demo, a staff draft, an earlier run) are left out
and reported with the invoice that billed them. Drafts are finalized by ``finalize_invoices``, the
same rules, audit entries and events as the staff button. The run's ``report`` says, per
organization, what it billed, what was already billed and by which invoice, and what it skipped
(an organization suspended by staff is left out whole: "suspended", ``orgs/suspension.py``).

The run works in batches of accounts (one query for their services, one for the periods already
billed), committing after each batch so progress is visible live; drafts, lines, periods, audit
entries and events of a batch are written with one statement per table, and the subscribers of
``invoice.issued`` get the batch's invoices at once (``emit_many``).
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import lazyload

from webapp.billing.models import (
    ACCOUNT_ACTIVE,
    ACCOUNT_OVERDUE,
    SERVICE_ACTIVE,
    SERVICE_CANCELLED,
    BillingAccount,
    BillingRun,
    Invoice,
    Service,
)
from webapp.billing.services.invoices import (
    ClaimRace,
    DraftRequest,
    LineSpec,
    add_line_item,
    create_draft_invoice,
    create_drafts,
    finalize_invoices,
)
from webapp.billing.services.periods import AlreadyBilled, live_periods, service_key, uncovered
from webapp.core import display
from webapp.core.errors import DomainError
from webapp.core.models import get_existing
from webapp.core.money import prorate
from webapp.extensions import db
from webapp.orgs.models import Organization

# Other domains append ``source(account, period_start, period_end) -> list[LineSpec]``.
BILLING_RUN_SOURCES: list[Callable] = []
# Faster for large runs: ``source(accounts, period_start, period_end) -> {account_id: [LineSpec, ...]}``,
# called once per batch of up to 500 accounts.
BILLING_RUN_BATCH_SOURCES: list[Callable] = []

# The report is rewritten whole in the run's row: after each batch while it is short, then every
# this many entries and at the end (after each batch, a run over 100,000 organizations would write
# ~10 million entries in all instead of ~600,000).
REPORT_LIVE_ENTRIES = 10_000

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


def active_days(service: Service, start: date, end: date) -> tuple[date, date] | None:
    """The days of ``start``..``end`` the service was active (activation to the day before cancelling)."""
    first = max(start, service.activated_at.astimezone(UTC).date())
    last = end
    if service.cancelled_at is not None:
        last = min(end, service.cancelled_at.astimezone(UTC).date() - timedelta(days=1))
    return (first, last) if first <= last else None


def service_lines(service: Service, start: date, end: date, billed=()) -> list[LineSpec]:
    """The service's lines for the period: one per stretch of active days no live period in
    ``billed`` covers yet, prorated by day when it is less than the whole period."""
    active = active_days(service, start, end)
    if active is None:
        return []
    period_days = (end - start).days + 1
    label = f"{service.name} ({display.label(service.type)}) {start:%b %Y}"
    lines = []
    for first, last in uncovered(active[0], active[1], billed):
        used = (last - first).days + 1
        if used >= period_days:
            lines.append(LineSpec(label, 1, service.monthly_fee, service_id=service.id, period=(first, last)))
            continue
        amount = prorate(service.monthly_fee, used, period_days)
        lines.append(
            LineSpec(f"{label}, {used} of {period_days} days", 1, amount, service_id=service.id, period=(first, last))
        )
    return lines


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
    counts = {
        "accounts": 0,
        "invoices": 0,
        "already_billed": 0,
        "nothing_to_bill": 0,
        "lines_already_billed": 0,
        "skipped": 0,
        "suspended": 0,
    }
    report: list[dict] = []
    written = kept = 0  # entries of ``report`` in the run's row; committed
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
            batch_counts, entries = _bill_batch(accounts, period, start, end, send_emails)
            counts["accounts"] += len(accounts)
            for key, value in batch_counts.items():
                counts[key] += value
            report.extend(entries)
            run.counts = dict(counts)
            if len(report) <= REPORT_LIVE_ENTRIES or len(report) >= written + REPORT_LIVE_ENTRIES:
                run.report, written = list(report), len(report)
            run.report_progress(counts["accounts"], total or 1)
            if commit:
                db.session.commit()
                kept = len(report)
            if progress:
                progress(counts["accounts"], total or 0)
    except Exception as exc:
        db.session.rollback()
        run = db.session.merge(run)
        run.counts = dict(counts)
        if kept > written:  # the committed batches' entries the row does not have yet
            run.report = report[:kept]
        run.add_error(str(exc))
        run.mark_finished(BillingRun.FAILED, str(exc))
        if commit:
            db.session.commit()
        raise
    run.report = list(report)
    run.mark_finished(BillingRun.SUCCEEDED)
    return run


def _bill_batch(accounts: list[BillingAccount], period: str, start: date, end: date, send_emails: bool):
    """Bill a batch: per account a draft made through ``add_line_item`` in a savepoint (each line
    claims its period; one already billed is reported with the invoice that billed it), then all
    drafts finalized by ``finalize_invoices``, the rules of the staff button. Returns counts and the
    report entries of the batch's organizations that had anything to say."""
    rows = db.session.execute(
        select(Organization.id, Organization.name, Organization.suspended_at).where(
            Organization.id.in_([a.organization_id for a in accounts])
        )
    ).all()
    names = {org_id: name for org_id, name, _ in rows}
    # Paused while suspended by staff: not invoiced, reported (``orgs/suspension.py``).
    suspended = {org_id for org_id, _, since in rows if since is not None}
    paused = [_suspended_entry(a, names) for a in accounts if a.organization_id in suspended]
    accounts = [a for a in accounts if a.organization_id not in suspended]
    if not accounts:
        empty = dict.fromkeys(("invoices", "already_billed", "nothing_to_bill", "lines_already_billed", "skipped"), 0)
        return {**empty, "suspended": len(paused)}, paused
    org_ids = [a.organization_id for a in accounts]
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
    live: dict[str, list] = defaultdict(list)
    keys = [service_key(s.id) for found in services_by_org.values() for s in found]
    for billed in live_periods(keys, start, end):
        live[billed.billable_key].append(billed)
    # The report names the invoices that billed them: one query, not one per period (a re-run finds
    # every one); held here, as the session keeps only referenced rows.
    billed_by = {p.invoice_id for found in live.values() for p in found}
    named = list(db.session.scalars(select(Invoice).where(Invoice.id.in_(billed_by)))) if billed_by else []

    batch_lines: dict[int, list[LineSpec]] = defaultdict(list)
    for batch_source in BILLING_RUN_BATCH_SOURCES:
        for account_id, account_specs in (batch_source(accounts, start, end) or {}).items():
            batch_lines[account_id].extend(account_specs)

    counts = {
        "invoices": 0,
        "already_billed": 0,
        "nothing_to_bill": 0,
        "lines_already_billed": 0,
        "skipped": 0,
        "suspended": len(paused),
    }
    drafts: list[tuple[Invoice, dict]] = []
    entries: list[dict] = list(paused)
    pending: list[tuple[BillingAccount, list[LineSpec], dict]] = []
    for account in accounts:
        entry: dict[str, Any] = {
            "organization_id": account.organization_id,
            "organization": names.get(account.organization_id, ""),
            "billed": None,
            "already_billed": [],
            "skipped": [],
        }
        specs: list[LineSpec] = []
        for service in services_by_org.get(account.organization_id, ()):
            taken = live.get(service_key(service.id), [])
            active = active_days(service, start, end)
            for billed in taken:
                if active and billed.start_date <= active[1] and billed.end_date >= active[0]:
                    entry["already_billed"].append(_already(service.name, billed))
            specs.extend(service_lines(service, start, end, taken))
        for source in BILLING_RUN_SOURCES:
            specs.extend(source(account, start, end) or [])
        specs.extend(batch_lines.get(account.id, ()))
        pending.append((account, specs, entry))
    wanted = [(account, specs, entry) for account, specs, entry in pending if specs]
    try:
        outcomes = create_drafts([DraftRequest(a, start, end, specs, run_period=period) for a, specs, _ in wanted])
        made = {}
        for (account, _, entry), outcome in zip(wanted, outcomes, strict=True):
            _report_refusals(outcome, entry)
            made[account.id] = outcome.invoice
    except ClaimRace:  # claimed meanwhile elsewhere: this chunk one account at a time, the loser told
        made = {account.id: _draft_for(account, period, start, end, specs, entry) for account, specs, entry in wanted}
    for account, _, entry in pending:
        invoice = made.get(account.id)
        if invoice is not None:
            drafts.append((invoice, entry))
        if invoice is not None or entry["already_billed"] or entry["skipped"]:
            entries.append(entry)
        else:
            counts["nothing_to_bill"] += 1
        counts["lines_already_billed"] += len(entry["already_billed"])

    results = finalize_invoices([invoice for invoice, _ in drafts], None, send_email=send_emails)
    for (invoice, error), (_, entry) in zip(results, drafts, strict=True):
        if error is None:
            counts["invoices"] += 1
            entry["billed"] = {
                "invoice": invoice.number,
                "invoice_id": invoice.id,
                "total": invoice.total,
                "currency": invoice.currency,
                "lines": [line.description for line in invoice.lines],
            }
        else:
            entry["skipped"].append(f"{invoice.display_number} is left as a draft for staff: {error.message}")
    del named
    for entry in entries:
        if entry["billed"] is None and not entry.get("suspended"):
            if entry["skipped"]:
                counts["skipped"] += 1
            elif entry["already_billed"]:
                counts["already_billed"] += 1
    return counts, entries


SUSPENDED_SKIP = "suspended: not invoiced while the organization is suspended by staff"


def _suspended_entry(account: BillingAccount, names: dict) -> dict:
    return {
        "organization_id": account.organization_id,
        "organization": names.get(account.organization_id, ""),
        "billed": None,
        "already_billed": [],
        "skipped": [SUSPENDED_SKIP],
        "suspended": True,
    }


def _already(what: str, billed) -> dict:
    invoice = billed.invoice or get_existing(Invoice, billed.invoice_id)
    return {
        "line": what,
        "invoice": invoice.display_number,
        "invoice_id": invoice.id,
        "period": f"{billed.start_date.isoformat()}..{billed.end_date.isoformat()}",
    }


def _report_refusals(outcome, entry) -> None:
    if outcome.refusal is not None:
        entry["skipped"].append(outcome.refusal.message)
    for spec, error in outcome.refused_lines:
        if isinstance(error, AlreadyBilled):
            entry["already_billed"].append(_already_line(spec, error))
        else:
            entry["skipped"].append(f"{spec.description}: {error.message}")


def _already_line(spec, error: AlreadyBilled) -> dict:
    winner = db.session.get(Invoice, error.invoice_id)
    return {
        "line": spec.description,
        "invoice": error.invoice_number,
        "invoice_id": getattr(winner, "id", None),
        "period": f"{error.start.isoformat()}..{error.end.isoformat()}",
    }


def _draft_for(account, period, start, end, specs, entry) -> Invoice | None:
    """The account's draft for the run, in a savepoint: kept only if at least one line is new."""
    savepoint = db.session.begin_nested()
    try:
        invoice = create_draft_invoice(account, period_start=start, period_end=end)
        invoice.run_period = period
        for spec in specs:
            try:
                add_line_item(
                    invoice,
                    spec.description,
                    spec.quantity,
                    spec.unit_price,
                    service=spec.service_id,
                    metric=spec.metric,
                    subscription_id=spec.subscription_id,
                    billable=spec.billable,
                    period=spec.period,
                )
            except AlreadyBilled as error:
                entry["already_billed"].append(_already_line(spec, error))
            except DomainError as error:
                entry["skipped"].append(f"{spec.description}: {error.message}")
    except DomainError as error:
        savepoint.rollback()
        entry["skipped"].append(error.message)
        return None
    if not invoice.lines:
        savepoint.rollback()
        return None
    savepoint.commit()
    return invoice
