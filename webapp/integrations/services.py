"""Rules of the integrations pages: start syncs, schedule them, disconnect, link Drive files.

Plain functions: flush, never commit; audited; jobs enqueued to start after the caller commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select

from webapp.audit import record
from webapp.core.errors import Conflict, DomainError
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations import oauth
from webapp.integrations.models import Connection, DriveFile, DriveSyncLog, FreeeSyncJob, OutboundCall

PROVIDERS_ON_PAGE = ("freee", "google_drive")


def connections_of(org, providers=PROVIDERS_ON_PAGE) -> list[Connection]:
    stmt = (
        select(Connection)
        .where(Connection.organization_id == org.id, Connection.provider.in_(providers))
        .order_by(Connection.provider, Connection.id)
    )
    return list(db.session.scalars(stmt))


def _require_connected(connection: Connection) -> None:
    if connection.status != Connection.CONNECTED:
        raise Conflict("Connect this account again before syncing.", code="not_connected")


def _running(model, connection: Connection):
    return db.session.scalar(
        select(model).where(model.connection_id == connection.id, model.status.in_(("QUEUED", "RUNNING"))).limit(1)
    )


def start_freee_sync(
    connection: Connection,
    actor,
    *,
    direction: str = FreeeSyncJob.IMPORT,
    entity_types: list[str] | tuple[str, ...] = FreeeSyncJob.ENTITIES,
    full_sync: bool = True,
    since_date: date | None = None,
    trigger: str = "manual",
) -> FreeeSyncJob:
    from webapp.integrations.jobs import run_freee_sync

    if connection.provider != "freee":
        raise DomainError("That is not a freee connection.")
    _require_connected(connection)
    if direction not in FreeeSyncJob.DIRECTIONS:
        raise DomainError("Choose import, export or both.", field="direction")
    entities = [e for e in FreeeSyncJob.ENTITIES if e in set(entity_types or ())]
    if not entities:
        raise DomainError("Choose at least one of partners, invoices and deals.", field="entity_types")
    if direction == FreeeSyncJob.EXPORT and not {"partners", "invoices"} & set(entities):
        # Tessera's invoices go out as freee invoices or deals (the connection's setting) under "invoices".
        raise DomainError("Export sends partners and invoices: tick at least one of them.", field="entity_types")
    if not full_sync and since_date is None:
        raise DomainError("Give the date to sync from, or choose a full sync.", field="since_date")
    if since_date is not None and since_date > utcnow().date():
        raise DomainError("The date to sync from cannot be in the future.", field="since_date")
    if _running(FreeeSyncJob, connection) is not None:
        raise Conflict("A sync of this connection is already running.", code="sync_running")
    job = FreeeSyncJob(
        organization_id=connection.organization_id,
        created_by_id=getattr(actor, "id", None),
        connection_id=connection.id,
        freee_company_id=int(connection.account_id),
        direction=direction,
        entity_types=entities,
        full_sync=full_sync,
        since_date=None if full_sync else since_date,
        trigger=trigger,
    )
    db.session.add(job)
    db.session.flush()
    record(actor, "freee_sync.started", job, {"direction": direction, "entities": entities, "full": full_sync})
    run_freee_sync.delay(job.id)
    return job


def start_drive_sync(connection: Connection, actor, *, sync_type: str = "incremental", trigger="manual"):
    from webapp.integrations.jobs import run_drive_sync

    if connection.provider != "google_drive":
        raise DomainError("That is not a Google Drive connection.")
    _require_connected(connection)
    if sync_type not in (DriveSyncLog.FULL, DriveSyncLog.INCREMENTAL):
        raise DomainError("Choose a full or an incremental sync.", field="sync_type")
    if _running(DriveSyncLog, connection) is not None:
        raise Conflict("A sync of this Drive is already running.", code="sync_running")
    if not (connection.details or {}).get("changes_page_token"):
        sync_type = DriveSyncLog.FULL  # nothing to continue from yet
    log = DriveSyncLog(
        organization_id=connection.organization_id,
        created_by_id=getattr(actor, "id", None),
        connection_id=connection.id,
        sync_type=sync_type,
        trigger=trigger,
    )
    db.session.add(log)
    db.session.flush()
    record(actor, "drive_sync.started", log, {"sync_type": sync_type})
    run_drive_sync.delay(log.id)
    return log


def start_sync(connection: Connection, actor, trigger: str = "manual"):
    """ "Sync now" on the connection page: the provider's default sync."""
    if connection.provider == "freee":
        since = None
        if connection.last_sync_at is not None:
            since = (connection.last_sync_at - timedelta(days=1)).date()
        return start_freee_sync(connection, actor, full_sync=since is None, since_date=since, trigger=trigger)
    if connection.provider == "google_drive":
        return start_drive_sync(connection, actor, trigger=trigger)
    raise DomainError("This connection has no sync.")


def set_sync_frequency(connection: Connection, actor, frequency: str) -> None:
    if frequency == "manual":
        frequency = "off"
    if frequency not in Connection.FREQUENCIES:
        raise DomainError("Choose off, hourly or daily.", field="frequency")
    previous = connection.sync_frequency
    connection.sync_frequency = frequency
    db.session.flush()
    record(actor, "connection.schedule_changed", connection, {"from": previous, "to": frequency})


def set_freee_export_as(connection: Connection, actor, export_as: str) -> None:
    """How Tessera invoices are exported to this freee company: as invoices (invoice API) or deals."""
    from webapp.integrations.freee_export import EXPORT_AS
    from webapp.integrations.freee_export import export_as as current

    if connection.provider != "freee":
        raise DomainError("Only freee connections export invoices.", field="export_as")
    if export_as not in EXPORT_AS:
        raise DomainError("Choose invoices or deals.", field="export_as")
    previous = current(connection)
    connection.set_detail("export_as", export_as)
    db.session.flush()
    if previous != export_as:
        record(actor, "connection.export_setting_changed", connection, {"from": previous, "to": export_as})


def disconnect(connection: Connection, actor) -> bool:
    if connection.status == Connection.DISCONNECTED:
        raise Conflict("This connection is already disconnected.", code="already_disconnected")
    return oauth.revoke(connection, actor)


def due_scheduled_syncs(now=None) -> list[Connection]:
    now = now or utcnow()
    from webapp.orgs.suspension import suspended_ids

    stmt = select(Connection).where(
        Connection.status == Connection.CONNECTED,
        Connection.provider.in_(PROVIDERS_ON_PAGE),
        Connection.organization_id.not_in(suspended_ids()),
        or_(
            (Connection.sync_frequency == "hourly")
            & or_(Connection.last_sync_at.is_(None), Connection.last_sync_at <= now - timedelta(minutes=55)),
            (Connection.sync_frequency == "daily")
            & or_(Connection.last_sync_at.is_(None), Connection.last_sync_at <= now - timedelta(hours=23, minutes=55)),
        ),
    )
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class WorkItems:
    """The projects and tasks Drive files attach to: the projects domain's, handed over at start
    (``attach_to``), so integrations imports nothing of it."""

    project: Any  # the mapped classes
    task: Any
    projects_of: Callable[[Any], list]  # an organization's, in the order its pages list them
    tasks_of: Callable[[Any], list]
    new_task: Callable[[Any, Any, str, str], Any]  # (org, actor, project name, task title): the demo's


_work_items: WorkItems | None = None


def attach_to(work_items: WorkItems) -> None:
    global _work_items
    _work_items = work_items


def work_items() -> WorkItems:
    if _work_items is None:
        raise RuntimeError("Drive files attach to projects: the projects domain hands them over at start")
    return _work_items


def link_drive_file(drive_file: DriveFile, actor, project_id: int | None, task_id: int | None) -> None:
    """Attach a file to a project and/or a task of the same organization (None detaches)."""
    Project, Task = work_items().project, work_items().task

    project = task = None
    if task_id:
        task = db.session.get(Task, task_id)
        if task is None or task.organization_id != drive_file.organization_id:
            raise DomainError("Choose a task of this organization.", field="task_id")
        project = task.project
    if project_id and project is None:
        project = db.session.get(Project, project_id)
    if project_id and (project is None or project.organization_id != drive_file.organization_id):
        raise DomainError("Choose a project of this organization.", field="project_id")
    if project is not None and project_id and project.id != project_id:
        raise DomainError("That task belongs to another project.", field="task_id")
    if drive_file.unlinked_at is not None:
        raise DomainError("That file was unlinked from Tessera.", code="unlinked")
    attached_before = drive_file.task_id
    drive_file.project_id = project.id if project else None
    drive_file.task_id = task.id if task else None
    db.session.flush()
    from webapp.integrations import drive_files

    if task is None:
        drive_files.drop_cache(drive_file)  # cached only while attached to a task
    elif task.id != attached_before and drive_files.can_cache(drive_file):
        from webapp.integrations.jobs import cache_drive_file

        cache_drive_file.delay(drive_file.id)
    record(
        actor,
        "drive_file.linked",
        drive_file,
        {"project_id": drive_file.project_id, "task_id": drive_file.task_id, "name": drive_file.file_name},
    )


def drive_file_content(drive_file: DriveFile, *, max_bytes: int) -> bytes:
    """The content of a synced Drive file, from Drive (at most ``max_bytes``); refuses clearly when the
    connection is gone or Drive says no."""
    from webapp.integrations.providers.client import ProviderError
    from webapp.integrations.providers.google_drive import DriveAPI

    connection = db.session.get(Connection, drive_file.connection_id)
    if connection is None or connection.status != Connection.CONNECTED:
        raise DomainError("The Google Drive connection of this file is not connected; reconnect it first.")
    api = DriveAPI(connection)
    try:
        return api.download(drive_file.drive_file_id)[:max_bytes]
    except ProviderError as error:
        raise DomainError(f"Google Drive did not give the file ({error}).") from None
    finally:
        api.close()


def calls_query(org_id: int | None = None, provider: str | None = None, success: str | None = None, action=None):
    stmt = select(OutboundCall)
    if org_id is not None:
        stmt = stmt.where(OutboundCall.organization_id == org_id)
    if provider:
        stmt = stmt.where(OutboundCall.provider == provider)
    if success in ("1", "0"):
        stmt = stmt.where(OutboundCall.success.is_(success == "1"))
    if action:
        stmt = stmt.where(OutboundCall.action == action)
    return stmt


def drive_files_query(org, connection_id: int | None = None, q: str | None = None):
    stmt = select(DriveFile).where(DriveFile.organization_id == org.id, DriveFile.unlinked_at.is_(None))
    if connection_id:
        stmt = stmt.where(DriveFile.connection_id == connection_id)
    if q:
        stmt = stmt.where(DriveFile.file_name.ilike(f"%{q.strip()[:100]}%"))
    return stmt.order_by(DriveFile.file_name, DriveFile.id)
