"""Rules of Drive folders and single Drive files: choose the root folder and a folder per project,
sync one file on demand, cache a file's content while it is attached to a task (``DRIVE_CACHE``),
unlink (out of Tessera, kept in Drive) and delete (to the Drive trash).

Plain functions: flush, never commit; audited. Provider calls go through ``DriveAPI`` (logged).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from webapp.audit import record
from webapp.core.errors import DomainError, NotFound
from webapp.core.models import get_existing, utcnow
from webapp.extensions import db
from webapp.integrations.models import Connection, DriveFile, DriveProjectFolder
from webapp.integrations.providers.client import ProviderError
from webapp.integrations.providers.google_drive import FOLDER, DriveAPI
from webapp.settings import define, get

define(
    "integrations.drive_cache_hours",
    int,
    24,
    "Hours a Drive file attached to a task is kept cached in Tessera's storage (DRIVE_CACHE) before it is "
    "fetched again",
    minimum=1,
    maximum=24 * 90,
)

ROOT = "root"


def _drive(connection: Connection) -> DriveAPI:
    if connection.provider != "google_drive":
        raise NotFound("That is not a Google Drive connection.")
    if connection.status != Connection.CONNECTED:
        raise DomainError("Connect Google Drive again first.", code="not_connected")
    return DriveAPI(connection)


def _provider_problem(error: ProviderError, what: str) -> DomainError:
    if error.status_code == 404:
        return DomainError(f"{what} is not in this Drive (any more).", code="drive_not_found", field="folder_id")
    if error.status_code == 403:
        return DomainError(f"Google Drive refused: {error}", code="drive_refused")
    return DomainError(f"Google Drive did not answer as expected ({error}). Try again.", code="drive_unavailable")


def _call(what: str, fn, *args):
    try:
        return fn(*args)
    except ProviderError as error:
        raise _provider_problem(error, what) from None


# ----------------------------------------------------------------------------- folders


def browse_folders(connection: Connection, parent_id: str | None) -> dict:
    """``folder_listing``, or ``{"problem": message, "status": 404|409|502}`` for the page to show."""
    try:
        return folder_listing(connection, parent_id)
    except NotFound:
        raise
    except DomainError as error:
        status = {"drive_not_found": 404, "not_a_folder": 404, "not_connected": 409}.get(error.code, 502)
        return {"problem": error.message, "status": status, "parent_id": parent_id, "folders": []}


def folder_listing(connection: Connection, parent_id: str | None) -> dict:
    """The folder picker: the folder shown (``root`` or a folder's metadata) and its subfolders."""
    parent_id = (parent_id or ROOT).strip() or ROOT
    api = _drive(connection)
    try:
        current = None
        if parent_id != ROOT:
            current = _call("That folder", api.get, parent_id)
            if current.get("mimeType") != FOLDER or current.get("trashed"):
                raise DomainError("That is not a folder of this Drive.", code="not_a_folder", field="folder_id")
        folders: list[dict] = []
        page_token = None
        while len(folders) < 500:
            body = _call("That folder", api.folders, parent_id, page_token)
            folders.extend(f for f in body.get("files") or [] if f.get("id"))
            page_token = body.get("nextPageToken")
            if not page_token:
                break
    finally:
        api.close()
    parents = (current or {}).get("parents") or []
    return {
        "parent_id": parent_id,
        "current": current,
        "up": parents[0] if parents else (ROOT if current else None),
        "folders": sorted(folders, key=lambda f: str(f.get("name", "")).lower()),
    }


def _folder(connection: Connection, folder_id: str) -> dict:
    folder_id = (folder_id or "").strip()
    if not folder_id or len(folder_id) > 128:
        raise DomainError("Choose a folder.", field="folder_id")
    api = _drive(connection)
    try:
        data = _call("That folder", api.get, folder_id)
    finally:
        api.close()
    if data.get("mimeType") != FOLDER or data.get("trashed"):
        raise DomainError("That is not a folder of this Drive.", code="not_a_folder", field="folder_id")
    return data


def choose_root_folder(connection: Connection, actor, folder_id: str | None) -> None:
    """Sync only this folder (and below) from now on; ``None``/"" goes back to the whole Drive. The
    next sync is a full one, so files outside the new scope leave Tessera."""
    previous = (connection.details or {}).get("root_folder_id")
    if folder_id:
        data = _folder(connection, folder_id)
        connection.set_detail("root_folder_id", data["id"])
        connection.set_detail("root_folder_name", str(data.get("name") or data["id"])[:500])
    else:
        _drive(connection).close()
        connection.set_detail("root_folder_id", None)
        connection.set_detail("root_folder_name", None)
    connection.set_detail("changes_page_token", None)
    db.session.flush()
    record(
        actor,
        "drive.root_folder_chosen",
        connection,
        {
            "from": previous,
            "to": connection.details.get("root_folder_id"),
            "name": connection.details.get("root_folder_name"),
        },
    )


def set_project_folder(connection: Connection, actor, project_id: int, folder_id: str | None) -> None:
    from webapp.integrations.services import work_items

    project = db.session.get(work_items().project, project_id) if project_id else None
    if project is None or project.organization_id != connection.organization_id:
        raise DomainError("Choose a project of this organization.", field="project_id")
    existing = db.session.scalar(
        select(DriveProjectFolder).where(
            DriveProjectFolder.connection_id == connection.id, DriveProjectFolder.project_id == project.id
        )
    )
    if not folder_id:
        if existing is not None:
            db.session.delete(existing)
        record(actor, "drive.project_folder_removed", connection, {"project_id": project.id})
        db.session.flush()
        return
    data = _folder(connection, folder_id)
    if existing is None:
        existing = DriveProjectFolder(
            organization_id=connection.organization_id,
            created_by_id=getattr(actor, "id", None),
            connection_id=connection.id,
            project_id=project.id,
        )
        db.session.add(existing)
    existing.folder_id = data["id"]
    existing.folder_name = str(data.get("name") or data["id"])[:500]
    connection.set_detail("changes_page_token", None)  # the next sync walks the new folder fully
    db.session.flush()
    record(
        actor,
        "drive.project_folder_chosen",
        connection,
        {"project_id": project.id, "folder_id": existing.folder_id, "name": existing.folder_name},
    )


def project_folders(connection: Connection) -> list[DriveProjectFolder]:
    return list(
        db.session.scalars(
            select(DriveProjectFolder)
            .where(DriveProjectFolder.connection_id == connection.id)
            .order_by(DriveProjectFolder.id)
        )
    )


# ----------------------------------------------------------------------------- one file


def sync_file(drive_file: DriveFile, actor) -> str:
    """``files.get`` for one file now: "updated", or "removed" when Drive has it no more (or in the trash)."""
    from webapp.integrations.drive_sync import _apply

    connection = get_existing(Connection, drive_file.connection_id)
    api = _drive(connection)
    try:
        data = api.get(drive_file.drive_file_id)
    except ProviderError as error:
        if error.status_code != 404:
            raise _provider_problem(error, "That file") from None
        data = None
    finally:
        api.close()
    if data is None or data.get("trashed"):
        name = drive_file.file_name
        _forget(drive_file)
        record(actor, "drive_file.synced", None, {"name": name, "result": "removed"})
        return "removed"
    _apply(drive_file, data)
    db.session.flush()
    record(actor, "drive_file.synced", drive_file, {"name": drive_file.file_name, "result": "updated"})
    return "updated"


def unlink(drive_file: DriveFile, actor) -> None:
    """Out of Tessera (lists, project, task, cache); the file stays in Drive untouched, and later
    syncs leave it out."""
    if drive_file.unlinked_at is not None:
        raise DomainError("That file is already unlinked.", code="already_unlinked")
    drop_cache(drive_file)
    drive_file.unlinked_at = utcnow()
    drive_file.project_id = drive_file.task_id = None
    db.session.flush()
    record(actor, "drive_file.unlinked", drive_file, {"name": drive_file.file_name, "kept_in_drive": True})


def trash(drive_file: DriveFile, actor) -> None:
    """Delete: the file moves to the Drive trash (``files.update trashed=true``, restorable there for
    30 days), then leaves Tessera."""
    connection = get_existing(Connection, drive_file.connection_id)
    api = _drive(connection)
    try:
        _call("That file", api.trash, drive_file.drive_file_id)
    finally:
        api.close()
    details = {"name": drive_file.file_name, "drive_file_id": drive_file.drive_file_id, "moved_to": "drive_trash"}
    record(actor, "drive_file.trashed", drive_file, details)
    _forget(drive_file)


def _forget(drive_file: DriveFile) -> None:
    drop_cache(drive_file)
    db.session.delete(drive_file)
    db.session.flush()


# ----------------------------------------------------------------------------- the cache (DRIVE_CACHE)


def can_cache(drive_file: DriveFile) -> bool:
    return not drive_file.is_folder and not drive_file.is_google_native


def cache_content(drive_file: DriveFile, actor=None) -> None:
    """Fetch the file's bytes into Tessera's storage (a DRIVE_CACHE upload, counted in storage) for
    ``integrations.drive_cache_hours``; a previous copy is replaced."""
    from webapp.files import services as files

    if not can_cache(drive_file):
        raise DomainError("Google Docs files and folders have no content to keep; open them at Google.")
    size = drive_file.file_size or 0
    limit = get("files.max_file_mb") * files.MIB
    if size > limit:
        raise DomainError(f"The file is larger than {limit // files.MIB} MB: it is opened at Google, not cached.")
    connection = get_existing(Connection, drive_file.connection_id)
    api = _drive(connection)
    try:
        content = _call("That file", api.download, drive_file.drive_file_id)
    finally:
        api.close()
    if len(content) > limit:
        raise DomainError(f"The file is larger than {limit // files.MIB} MB: it is opened at Google, not cached.")
    drop_cache(drive_file)
    expires = utcnow() + timedelta(hours=get("integrations.drive_cache_hours"))
    upload = files.store_drive_cache(
        drive_file.organization_id, drive_file.file_name, drive_file.mime_type, content, expires, actor
    )
    drive_file.cache_upload_id = upload.id
    drive_file.cache_upload = upload
    drive_file.cache_expires_at = expires
    db.session.flush()
    record(actor, "drive_file.cached", drive_file, {"bytes": len(content), "expires_at": expires.isoformat()})


def drop_cache(drive_file: DriveFile) -> None:
    from webapp.files import services as files

    upload = drive_file.cache_upload
    if upload is not None and upload.deleted_at is None:
        files.delete_file(upload, None)
    drive_file.cache_upload_id = None
    drive_file.cache_upload = None
    drive_file.cache_expires_at = None


def drop_caches(connection_id: int, drive_file_ids: list[str]) -> None:
    for row in db.session.scalars(
        select(DriveFile).where(
            DriveFile.connection_id == connection_id,
            DriveFile.drive_file_id.in_(drive_file_ids),
            DriveFile.cache_upload_id.is_not(None),
        )
    ):
        drop_cache(row)
    db.session.flush()


def cached_copy(drive_file: DriveFile, actor):
    """The cached upload to serve; fetched again when the copy expired or is gone."""
    if not drive_file.cache_valid():
        cache_content(drive_file, actor)
    return drive_file.cache_upload


def expire_caches(now=None) -> int:
    """Expired copies lose their bytes (and leave the storage figures); the next open fetches again."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(DriveFile).where(DriveFile.cache_expires_at.is_not(None), DriveFile.cache_expires_at <= now).limit(1000)
    ).all()
    for row in rows:
        drop_cache(row)
    db.session.flush()
    return len(rows)
