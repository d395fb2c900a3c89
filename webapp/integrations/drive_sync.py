"""The Google Drive sync job body: full (``files.list``) or incremental (``changes.list`` from the
stored page token), recording scanned / added / updated / removed and the duration (seed 004
``DriveSyncLog``). Calls happen between commits, as in the freee sync.

With a root folder chosen (``details.root_folder_id``) or folders chosen for projects
(``DriveProjectFolder``), only those folders and what lies below them are walked (folder by folder,
``'<id>' in parents``); files found under a project's folder are linked to that project. Without
any, the whole Drive is listed."""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import delete, func, select

from webapp.core.models import get_existing, rowcount, utcnow
from webapp.core.transaction import commit_progress
from webapp.extensions import db
from webapp.integrations import oauth
from webapp.integrations.models import Connection, DriveFile, DriveProjectFolder, DriveSyncLog
from webapp.integrations.providers.client import ProviderError
from webapp.integrations.providers.google_drive import FOLDER, DriveAPI, quota_details

PAGE_TOKEN = "changes_page_token"
MAX_FOLDERS = 5000  # a walk stops there (and says so) rather than run for ever on a huge tree


def scope_roots(connection: Connection) -> dict[str, int | None]:
    """The folders a sync walks: {folder id: project id or None}. Empty: the whole Drive."""
    roots: dict[str, int | None] = {}
    root = (connection.details or {}).get("root_folder_id")
    if root:
        roots[root] = None
    chosen = select(DriveProjectFolder).where(DriveProjectFolder.connection_id == connection.id)
    for folder in db.session.scalars(chosen):
        roots[folder.folder_id] = folder.project_id
    return roots


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _apply(row: DriveFile, data: dict, project_id: int | None = None) -> None:
    row.file_name = str(data.get("name") or "(untitled)")[:500]
    row.mime_type = str(data.get("mimeType") or "application/octet-stream")[:255]
    size = data.get("size")
    row.file_size = int(size) if size not in (None, "") else None
    row.web_view_link = (data.get("webViewLink") or None) and str(data["webViewLink"])[:1000]
    row.web_content_link = (data.get("webContentLink") or None) and str(data["webContentLink"])[:1000]
    row.thumbnail_link = (data.get("thumbnailLink") or None) and str(data["thumbnailLink"])[:1000]
    listed = data.get("permissions")
    permissions = listed if isinstance(listed, list) else []
    row.is_public = any(isinstance(p, dict) and p.get("type") == "anyone" for p in permissions)
    given = data.get("capabilities")
    capabilities = given if isinstance(given, dict) else {}
    row.can_edit = bool(capabilities.get("canEdit"))
    row.can_share = bool(capabilities.get("canShare"))
    row.synced_at = utcnow()
    if project_id is not None and row.project_id is None:
        row.project_id = project_id
    row.drive_created_at = _time(data.get("createdTime"))
    row.drive_modified_at = _time(data.get("modifiedTime"))
    parents = data.get("parents") or []
    row.drive_parent_id = parents[0] if parents else None


def _upsert(log: DriveSyncLog, files: list[dict], seen: set[str] | None = None, project_id: int | None = None) -> None:
    ids = [f["id"] for f in files if f.get("id")]
    existing = {
        row.drive_file_id: row
        for row in db.session.scalars(
            select(DriveFile).where(DriveFile.connection_id == log.connection_id, DriveFile.drive_file_id.in_(ids))
        )
    }
    for data in files:
        file_id = data.get("id")
        log.bump("scanned")
        if not file_id:
            log.add_error("Drive sent a file without an id")
            continue
        if data.get("trashed"):
            _remove(log, [file_id])
            continue
        row = existing.get(file_id)
        if seen is not None:
            seen.add(file_id)
        if row is not None and row.unlinked_at is not None:
            continue  # unlinked from Tessera: stays out until someone links it again
        if row is None:
            row = DriveFile(organization_id=log.organization_id, connection_id=log.connection_id, drive_file_id=file_id)
            db.session.add(row)
            existing[file_id] = row
            log.bump("added")
        else:
            log.bump("updated")
        _apply(row, data, project_id)


def _remove(log: DriveSyncLog, file_ids: list[str]) -> None:
    if not file_ids:
        return
    from webapp.integrations.drive_files import drop_caches

    drop_caches(log.connection_id, file_ids)
    removed = rowcount(
        db.session.execute(
            delete(DriveFile).where(DriveFile.connection_id == log.connection_id, DriveFile.drive_file_id.in_(file_ids))
        )
    )
    log.bump("removed", removed or 0)


def run(log: DriveSyncLog) -> None:
    log.mark_running()
    log.counts = {"scanned": 0, "added": 0, "updated": 0, "removed": 0}
    commit_progress("a Drive sync saves each page as it goes (a long job)")
    started = time.monotonic()
    connection = log.connection
    if connection.status != Connection.CONNECTED:
        log.mark_finished(log.FAILED, "The Google Drive connection is not connected.")
        return
    api = DriveAPI(connection)
    try:
        about = api.about()
        for key, value in quota_details(about).items():
            connection.set_detail(key, value)
        commit_progress("a Drive sync saves each page as it goes (a long job)")
        token = (connection.details or {}).get(PAGE_TOKEN)
        roots = scope_roots(connection)
        if log.sync_type == DriveSyncLog.INCREMENTAL and token:
            _incremental(log, api, token, roots)
        else:
            log.sync_type = DriveSyncLog.FULL
            _full(log, api, roots)
    except ProviderError as error:
        db.session.rollback()
        log = get_existing(DriveSyncLog, log.id)
        log.duration_ms = int((time.monotonic() - started) * 1000)
        log.mark_finished(log.FAILED, f"Google Drive did not answer as expected: {str(error)[:300]}")
        connection = get_existing(Connection, log.connection_id)
        connection.last_error = log.error_message
        connection.last_error_at = utcnow()
        return
    except oauth.ConnectionUnavailable as error:
        log.duration_ms = int((time.monotonic() - started) * 1000)
        log.mark_finished(log.FAILED, error.message)
        return
    finally:
        api.close()
    connection = get_existing(Connection, log.connection_id)
    connection.last_sync_at = utcnow()
    log.duration_ms = int((time.monotonic() - started) * 1000)
    log.mark_finished(log.SUCCEEDED)


def _pages(api: DriveAPI, folder_id: str | None):
    page_token = None
    while True:
        body = api.files(page_token) if folder_id is None else api.children(folder_id, page_token)
        yield body.get("files") or []
        page_token = body.get("nextPageToken")
        if not page_token:
            return


def _full(log: DriveSyncLog, api: DriveAPI, roots: dict[str, int | None]) -> None:
    # The start token is taken first, so changes made during the listing are picked up next time.
    start_token = api.start_page_token()
    known = db.session.scalar(select(func.count()).where(DriveFile.connection_id == log.connection_id)) or 0
    seen: set[str] = set()
    # The whole Drive (None), or each chosen folder and, breadth first, every folder below it.
    queue: list[tuple[str | None, int | None]] = list(roots.items()) if roots else [(None, None)]
    walked: set[str] = set()
    while queue:
        folder_id, project_id = queue.pop(0)
        if folder_id is not None:
            if folder_id in walked:
                continue
            walked.add(folder_id)
            if len(walked) > MAX_FOLDERS:
                log.add_error(f"Stopped after {MAX_FOLDERS} folders; choose a smaller root folder.")
                break
        for files in _pages(api, folder_id):
            _upsert(log, files, seen, project_id)
            if folder_id is not None:
                queue.extend((f["id"], project_id) for f in files if f.get("mimeType") == FOLDER and f.get("id"))
            log.report_progress(len(seen), max(known, len(seen)) + 1)
            commit_progress("a Drive sync saves each page as it goes (a long job)")
    stale = db.session.scalars(
        select(DriveFile.drive_file_id).where(DriveFile.connection_id == log.connection_id)
    ).all()
    _remove(log, [file_id for file_id in stale if file_id not in seen])
    connection = get_existing(Connection, log.connection_id)
    connection.set_detail(PAGE_TOKEN, start_token)


def _in_scope(log: DriveSyncLog, roots: dict[str, int | None]) -> dict[str, int | None]:
    """Folders whose children belong to the sync: the chosen ones and the synced folders below them."""
    scope = dict(roots)
    rows = db.session.execute(
        select(DriveFile.drive_file_id, DriveFile.project_id).where(
            DriveFile.connection_id == log.connection_id, DriveFile.mime_type == FOLDER
        )
    )
    for file_id, project_id in rows:
        scope.setdefault(file_id, project_id)
    return scope


def _incremental(log: DriveSyncLog, api: DriveAPI, token: str, roots: dict[str, int | None]) -> None:
    pages = 0
    scope = _in_scope(log, roots) if roots else None
    while True:
        body = api.changes(token)
        changes = body.get("changes") or []
        _remove(log, [c.get("fileId") for c in changes if c.get("removed") and c.get("fileId")])
        for c in changes:
            if c.get("removed"):
                log.bump("scanned")
        files = [c["file"] for c in changes if not c.get("removed") and isinstance(c.get("file"), dict)]
        if scope is None:
            _upsert(log, files)
        else:
            # The changes feed covers the whole Drive: keep what lies in the chosen folders, and drop
            # what moved out of them.
            outside = []
            for data in files:
                parent = next((p for p in data.get("parents") or [] if p in scope), None)
                if parent is None:
                    outside.append(data.get("id"))
                    continue
                if data.get("mimeType") == FOLDER and data.get("id"):
                    scope.setdefault(data["id"], scope[parent])
                _upsert(log, [data], project_id=scope[parent])
            _remove(log, [file_id for file_id in outside if file_id])
        pages += 1
        log.progress = min(95, pages * 20)
        if body.get("newStartPageToken"):
            connection = get_existing(Connection, log.connection_id)
            connection.set_detail(PAGE_TOKEN, str(body["newStartPageToken"]))
            commit_progress("a Drive sync saves each page as it goes (a long job)")
            return
        token = str(body.get("nextPageToken") or "")
        commit_progress("a Drive sync saves each page as it goes (a long job)")
        if not token:
            return
