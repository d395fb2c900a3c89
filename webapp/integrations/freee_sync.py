"""The freee sync job body: import partners, deals and invoices; export Tessera invoices and customers.

Pages follow freee's offset/limit; progress moves as pages complete and is committed after each
page (the page reads it live). Every provider call happens with no uncommitted write in the session,
so a refresh (its own transaction) and the call log never wait on us. A bad record is reported in
the job's error list and the rest continue; records are matched by their freee id, so re-running a
sync creates no duplicates.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from sqlalchemy import select

from webapp.core.models import get_existing, utcnow
from webapp.core.transaction import commit_progress
from webapp.extensions import db
from webapp.integrations import oauth
from webapp.integrations.models import Connection, FreeeDeal, FreeeInvoice, FreeePartner, FreeeSyncJob
from webapp.integrations.providers.client import ProviderError
from webapp.integrations.providers.freee import DEAL_PAGE, INVOICE_PAGE, PARTNER_PAGE, FreeeAPI

INVOICE_WINDOW_DAYS = 90
FULL_HISTORY_DAYS = 3 * 365


class EntityFailed(Exception):
    """A page could not be fetched after retries: this entity stops, the others go on."""


class Stats:
    """Time spent waiting on the provider, for the benchmark."""

    provider_seconds = 0.0


def run(job: FreeeSyncJob, page_size: dict | None = None) -> None:
    connection = job.connection
    page_size = page_size or {}
    job.mark_running()
    commit_progress("a freee sync saves its progress and errors page by page (a long job)")
    if connection.status != Connection.CONNECTED:
        job.mark_finished(job.FAILED, "The freee connection is not connected.")
        return
    api = FreeeAPI(connection)
    steps = []
    importing = job.direction in (job.IMPORT, job.BIDIRECTIONAL)
    exporting = job.direction in (job.EXPORT, job.BIDIRECTIONAL)
    chosen = [entity for entity in FreeeSyncJob.ENTITIES if entity in job.entity_types]
    if importing:  # both ways: import first, then export
        steps += [(f"import {entity}", IMPORTERS[entity]) for entity in chosen]
    if exporting:
        steps += [(f"export {entity}", EXPORTERS[entity]) for entity in chosen if entity in EXPORTERS]
    since = None if job.full_sync else job.since_date
    failed_steps = []
    try:
        for index, (label, step) in enumerate(steps):
            share = (index / len(steps), (index + 1) / len(steps))
            try:
                step(job, api, since, share, page_size)
            except EntityFailed as error:
                failed_steps.append(label)
                job.add_error(f"{label}: {error}", entity=label)
                commit_progress("a freee sync saves its progress and errors page by page (a long job)")
    except oauth.ConnectionUnavailable as error:
        # Nothing half-written is pending (calls happen between commits); an expiry notice may be.
        job.mark_finished(job.FAILED, error.message)
        return
    finally:
        api.close()
    connection = get_existing(Connection, job.connection_id)
    connection.last_sync_at = utcnow()
    if failed_steps:
        connection.last_error = f"Sync stopped for {', '.join(failed_steps)}; see the sync job."
        connection.last_error_at = utcnow()
        job.mark_finished(job.FAILED, f"Could not finish: {', '.join(failed_steps)}. Other entities were synced.")
    else:
        job.mark_finished(job.SUCCEEDED)


def _fetch(callable_, *args, **kwargs):
    started = time.perf_counter()
    try:
        return callable_(*args, **kwargs)
    except ProviderError as error:
        raise EntityFailed(str(error)) from None
    finally:
        Stats.provider_seconds += time.perf_counter() - started


def _progress(job: FreeeSyncJob, share: tuple[float, float], fraction: float) -> None:
    low, high = share
    job.progress = min(99, int((low + (high - low) * min(1.0, fraction)) * 100))


def _upsert_records(job: FreeeSyncJob, model, records: list, entity: str, apply) -> None:
    """Save one page. ``apply`` checks a record completely before it changes the row, so a bad record
    is reported (and skipped) without touching anything; the page is flushed once."""
    ids = [r.get("id") for r in records if isinstance(r, dict) and r.get("id") is not None]
    existing = {
        row.freee_id: row
        for row in db.session.scalars(
            select(model).where(model.connection_id == job.connection_id, model.freee_id.in_(ids))
        )
    }
    counts = dict.fromkeys((entity, f"{entity}_added", f"{entity}_updated", f"{entity}_failed"), 0)
    for record in records:
        freee_id = record.get("id") if isinstance(record, dict) else None
        try:
            if freee_id is None:
                raise ValueError("the record has no id")
            row = existing.get(freee_id)
            if row is None:
                row = model(organization_id=job.organization_id, connection_id=job.connection_id, freee_id=freee_id)
                apply(row, record)
                db.session.add(row)
                existing[freee_id] = row
                counts[f"{entity}_added"] += 1
            else:
                apply(row, record)
                counts[f"{entity}_updated"] += 1
            counts[entity] += 1
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            job.add_error(f"{entity[:-1]} {freee_id}: {error}", entity=entity, freee_id=freee_id)
            counts[f"{entity}_failed"] += 1
    db.session.flush()
    for key, value in counts.items():
        if value or key == entity:
            job.bump(key, value)


def _apply_partner(row: FreeePartner, record: dict) -> None:
    name = (record.get("name") or "").strip()
    if not name:
        raise ValueError("freee sent a partner without a name")
    code = str(record["code"])[:64] if record.get("code") else None
    email = str(record["email"])[:254] if record.get("email") else None
    row.name, row.code, row.email = name[:255], code, email
    row.freee_updated_at = record.get("update_date")


def _apply_deal(row: FreeeDeal, record: dict) -> None:
    amount = int(record.get("amount") or 0)
    row.amount = amount
    row.issue_date = str(record["issue_date"])[:10] if record.get("issue_date") else None
    row.kind = record.get("type") or "income"
    row.partner_freee_id = record.get("partner_id")
    row.ref_number = record.get("ref_number")


def _apply_invoice(row: FreeeInvoice, record: dict) -> None:
    total = int(record.get("total_amount") or 0)
    row.total_amount = total
    row.invoice_number = record.get("invoice_number")
    row.billing_date = str(record["billing_date"])[:10] if record.get("billing_date") else None
    row.partner_freee_id = record.get("partner_id")
    row.status = record.get("payment_status")


def import_partners(job, api: FreeeAPI, since: date | None, share, page_size) -> None:
    limit = page_size.get("partners", PARTNER_PAGE)
    offset = 0
    while True:
        records, total = _fetch(api.partners, offset, limit, since.isoformat() if since else None)
        _upsert_records(job, FreeePartner, records, "partners", _apply_partner)
        offset += len(records)
        _progress(job, share, offset / total if total else 1.0)
        commit_progress("a freee sync saves its progress and errors page by page (a long job)")
        if not records or offset >= total:
            return


def import_deals(job, api: FreeeAPI, since: date | None, share, page_size) -> None:
    limit = page_size.get("deals", DEAL_PAGE)
    offset = 0
    while True:
        records, total = _fetch(api.deals, offset, limit, since.isoformat() if since else None)
        _upsert_records(job, FreeeDeal, records, "deals", _apply_deal)
        offset += len(records)
        _progress(job, share, offset / total if total else 1.0)
        commit_progress("a freee sync saves its progress and errors page by page (a long job)")
        if not records or offset >= total:
            return


def invoice_windows(since: date | None, today: date) -> list[tuple[date, date]]:
    start = since or today - timedelta(days=FULL_HISTORY_DAYS)
    windows = []
    while start <= today:
        end = min(today, start + timedelta(days=INVOICE_WINDOW_DAYS - 1))
        windows.append((start, end))
        start = end + timedelta(days=1)
    return windows


def import_invoices(job, api: FreeeAPI, since: date | None, share, page_size) -> None:
    limit = page_size.get("invoices", INVOICE_PAGE)
    windows = invoice_windows(since, utcnow().date())
    for index, (start, end) in enumerate(windows):
        offset = 0
        while True:
            records, total = _fetch(api.invoices, start.isoformat(), end.isoformat(), offset, limit)
            _upsert_records(job, FreeeInvoice, records, "invoices", _apply_invoice)
            offset += len(records)
            commit_progress("a freee sync saves its progress and errors page by page (a long job)")
            if not records or offset >= total:
                break
        _progress(job, share, (index + 1) / len(windows))
        commit_progress("a freee sync saves its progress and errors page by page (a long job)")


IMPORTERS = {"partners": import_partners, "deals": import_deals, "invoices": import_invoices}
EXPORTERS: dict = {}  # filled by webapp.integrations.freee_export (partners, invoices)

from webapp.integrations import freee_export  # noqa: E402,F401  (registers the exporters)
