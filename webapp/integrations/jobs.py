"""Integration jobs: sync runs, token refresh ahead of expiry, scheduled syncs, daily maintenance."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from sqlalchemy import delete, select, update

from webapp.audit import record
from webapp.core.models import get_existing, rowcount, utcnow
from webapp.extensions import db
from webapp.integrations.models import DriveSyncLog, FreeeSyncJob
from webapp.jobs import job, lease, periodic

log = logging.getLogger(__name__)

CALL_LOG_DAYS = 90
SYNC_JOB_DAYS = 30


PAUSED_SYNC = "Paused: the organization is suspended. The sync starts when it is reactivated."


def _run_safely(model, run_id: int, body, timeout: int) -> None:
    # Idempotent: a finished run is not run again, one that another worker holds is left to it.
    from webapp.orgs.suspension import skip_if_suspended

    waiting = db.session.get(model, run_id)
    if waiting is not None and waiting.status == model.QUEUED:
        if skip_if_suspended(waiting.organization_id, f"{model.__name__} {run_id}"):
            waiting.error_message = PAUSED_SYNC  # stays QUEUED: reactivation queues it again
            db.session.commit()
            return
        if waiting.error_message == PAUSED_SYNC:
            waiting.error_message = None
    owner = lease.claim(model, run_id, model.status.in_((model.QUEUED, model.RUNNING)))
    if owner is None:
        return
    row = get_existing(model, run_id)
    with lease.held(model, run_id, owner, max_seconds=timeout):
        try:
            body(row)
        except Exception:  # a bug must not leave the bar spinning forever
            log.exception("%s %s crashed", model.__name__, run_id)
            db.session.rollback()
            row = get_existing(model, run_id)
            row.mark_finished(row.FAILED, "The sync stopped because of an unexpected error; try again.")
    from webapp.core.events import emit

    if row.status == row.FAILED:
        emit("sync.failed", org=row.organization_id, run_type=model.__tablename__, run_id=row.id)
    elif row.status == row.SUCCEEDED:
        emit(
            "sync.completed",
            org=row.organization_id,
            run_type=model.__tablename__,
            run_id=row.id,
            status=row.status,
            counts=dict(row.counts or {}),
        )


@job(queue="integrations", retries=0, timeout=3600)
def run_freee_sync(job_id: int) -> None:
    from webapp.integrations import freee_sync
    from webapp.integrations.models import FreeeSyncJob

    _run_safely(FreeeSyncJob, job_id, freee_sync.run, run_freee_sync.timeout)


@job(queue="integrations", retries=0, timeout=3600)
def run_drive_sync(log_id: int) -> None:
    from webapp.integrations import drive_sync
    from webapp.integrations.models import DriveSyncLog

    _run_safely(DriveSyncLog, log_id, drive_sync.run, run_drive_sync.timeout)


def resume_waiting_syncs(org) -> dict[str, int]:
    """On reactivation: the syncs queued before the suspension go to their jobs again (``RESUME_HOOKS``)."""
    resumed = 0
    for model, run in ((FreeeSyncJob, run_freee_sync), (DriveSyncLog, run_drive_sync)):
        waiting = db.session.scalars(
            select(model.id).where(model.organization_id == org.id, model.status == model.QUEUED)
        ).all()
        for run_id in waiting:
            run.delay(run_id)
        resumed += len(waiting)
    return {"syncs": resumed}


@job(queue="integrations", retries=3, backoff=(30, 120, 600))
def cache_drive_file(drive_file_id: int) -> None:
    """Keep the content of a Drive file attached to a task (DRIVE_CACHE). Safe to run twice: a file
    with a valid copy, or no longer attached, is left alone. A refusal (too large, over the storage
    quota, a Google Doc) is noted on the file's row in the audit log, not retried."""
    from webapp.audit import record
    from webapp.core.errors import DomainError
    from webapp.integrations import drive_files
    from webapp.integrations.models import DriveFile

    drive_file = db.session.get(DriveFile, drive_file_id)
    if drive_file is None or drive_file.task_id is None or drive_file.unlinked_at is not None:
        return
    if drive_file.cache_valid() or not drive_files.can_cache(drive_file):
        return
    try:
        with db.session.begin_nested():
            drive_files.cache_content(drive_file)
    except DomainError as error:
        record(None, "drive_file.cache_refused", drive_file, {"reason": error.message})


@periodic("*/15 * * * *")
@job(queue="maintenance", retries=1)
def expire_drive_caches() -> None:
    """Cached Drive content past its expiry is deleted (bytes and storage figures); opening the file
    from its task fetches it again."""
    from webapp.integrations import drive_files

    dropped = drive_files.expire_caches()
    if dropped:
        record(None, "maintenance.drive_caches_expired", None, {"files": dropped})


@periodic("*/15 * * * *")
@job(queue="integrations", retries=0)
def refresh_expiring_connections() -> None:
    """Refresh every connection (any provider) whose access token expires within the hour."""
    from webapp.integrations import oauth
    from webapp.integrations.models import Connection

    for connection_id in oauth.connections_due_for_refresh(timedelta(hours=1)):
        connection = db.session.get(Connection, connection_id)
        if connection is None or connection.provider not in oauth.PROVIDERS:
            continue
        # EXPIRED (owners told) or a temporary failure (retried next run): either way, go on.
        with contextlib.suppress(oauth.ConnectionUnavailable):
            oauth.refresh_if_needed(connection, margin=timedelta(hours=1))
        db.session.commit()


@periodic("*/10 * * * *")
@job(queue="integrations", retries=0)
def dispatch_scheduled_syncs() -> None:
    """Start the syncs that connections scheduled hourly or daily are due for."""
    from webapp.core.errors import DomainError
    from webapp.integrations import services

    for connection in services.due_scheduled_syncs():
        try:
            with db.session.begin_nested():
                services.start_sync(connection, None, trigger="scheduled")
        except DomainError as error:  # already running, or not connected any more
            log.info("scheduled sync of connection %s not started: %s", connection.id, error.message)


@periodic("17 3 * * *")
@job(queue="maintenance", retries=1)
def prune_outbound_calls() -> None:
    """Calls older than 90 days go. On PostgreSQL a whole month goes once its last day is 90 days old
    (its partition is dropped), so a call is kept 90 to about 121 days."""
    from webapp.core.partitions import prune_before
    from webapp.integrations.models import OutboundCall

    pruned = prune_before(OutboundCall, utcnow() - timedelta(days=CALL_LOG_DAYS))
    record(None, "maintenance.outbound_calls_pruned", None, {**pruned, "older_than_days": CALL_LOG_DAYS})


@periodic("23 3 * * *")
@job(queue="maintenance", retries=1)
def expire_connections() -> None:
    """Connections whose refresh token has expired can never refresh again: EXPIRED."""
    from webapp.integrations.models import Connection

    now = utcnow()
    ids = list(
        db.session.scalars(
            select(Connection.id).where(
                Connection.status == Connection.CONNECTED,
                Connection.refresh_expires_at.is_not(None),
                Connection.refresh_expires_at < now,
            )
        )
    )
    if ids:
        db.session.execute(
            update(Connection)
            .where(Connection.id.in_(ids))
            .values(
                status=Connection.EXPIRED, last_error="The refresh token expired; connect again.", last_error_at=now
            )
        )
    record(None, "maintenance.connections_expired", None, {"expired": len(ids), "connection_ids": ids[:100]})


@periodic("29 3 * * *")
@job(queue="maintenance", retries=1)
def prune_sync_jobs() -> None:
    from webapp.integrations.models import DriveSyncLog, FreeeSyncJob
    from webapp.integrations.oauth import OAuthState

    cutoff = utcnow() - timedelta(days=SYNC_JOB_DAYS)
    counts = {}
    for model in (FreeeSyncJob, DriveSyncLog):
        counts[model.__tablename__] = (
            rowcount(
                db.session.execute(delete(model).where(model.status == model.SUCCEEDED, model.completed_at < cutoff))
            )
            or 0
        )
    counts["oauth_states"] = rowcount(
        db.session.execute(delete(OAuthState).where(OAuthState.created_at < utcnow() - timedelta(days=1)))
    )
    record(None, "maintenance.sync_jobs_pruned", None, {"deleted": counts, "older_than_days": SYNC_JOB_DAYS})


@lease.on_expiry(DriveSyncLog)
@lease.on_expiry(FreeeSyncJob)
def _sync_lease_expired(row) -> tuple[str, str]:
    """The worker running a sync died. Imports and Drive syncs only upsert what the provider lists,
    so they are queued again; an export may have created a record at freee that was not yet noted
    here, so it fails and asks for a look at freee first. Failing frees the connection's one-sync slot."""
    if row.is_finished:
        return lease.RELEASED, ""
    done = f"{row.progress or 0}% done"
    exporting = isinstance(row, FreeeSyncJob) and row.direction != FreeeSyncJob.IMPORT
    if not exporting and lease.requeue_allowed(row):
        reason = f"The worker stopped during this sync ({done}); it was queued again (a sync is safe to repeat)."
        row.status = row.QUEUED
        row.queued_at = utcnow()
        row.add_error(reason)
        (run_freee_sync if isinstance(row, FreeeSyncJob) else run_drive_sync).delay(row.id)
        return lease.REQUEUED, reason
    if exporting:
        reason = (
            f"The worker stopped during this sync ({done}); nothing after that point ran. A record being exported "
            "may have reached freee without being noted here: check freee before you sync again."
        )
    else:
        reason = (
            f"The worker stopped during this sync ({done}) {lease.times(row.lease_expiries)}, "
            "so it is not queued again. "
            "Start a new sync when the cause is fixed."
        )
    row.add_error(reason)
    row.mark_finished(row.FAILED, reason)
    return lease.FAILED, reason
