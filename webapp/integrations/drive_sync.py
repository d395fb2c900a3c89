"""The Google Drive sync job body: full (``files.list``) or incremental (``changes.list`` from the
stored page token), recording scanned / added / updated / removed and the duration (seed 004
``DriveSyncLog``). Calls happen between commits, as in the freee sync."""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import delete, func, select

from webapp.core.models import utcnow
from webapp.core.transaction import commit_progress
from webapp.extensions import db
from webapp.integrations import oauth
from webapp.integrations.models import Connection, DriveFile, DriveSyncLog
from webapp.integrations.providers.client import ProviderError
from webapp.integrations.providers.google_drive import DriveAPI, quota_details

PAGE_TOKEN = "changes_page_token"


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _apply(row: DriveFile, data: dict) -> None:
    row.file_name = str(data.get("name") or "(untitled)")[:500]
    row.mime_type = str(data.get("mimeType") or "application/octet-stream")[:255]
    size = data.get("size")
    row.file_size = int(size) if size not in (None, "") else None
    row.web_view_link = (data.get("webViewLink") or None) and str(data["webViewLink"])[:1000]
    row.thumbnail_link = (data.get("thumbnailLink") or None) and str(data["thumbnailLink"])[:1000]
    row.drive_created_at = _time(data.get("createdTime"))
    row.drive_modified_at = _time(data.get("modifiedTime"))
    parents = data.get("parents") or []
    row.drive_parent_id = parents[0] if parents else None


def _upsert(log: DriveSyncLog, files: list[dict], seen: set[str] | None = None) -> None:
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
        if row is None:
            row = DriveFile(organization_id=log.organization_id, connection_id=log.connection_id, drive_file_id=file_id)
            db.session.add(row)
            existing[file_id] = row
            log.bump("added")
        else:
            log.bump("updated")
        _apply(row, data)
        if seen is not None:
            seen.add(file_id)


def _remove(log: DriveSyncLog, file_ids: list[str]) -> None:
    if not file_ids:
        return
    removed = db.session.execute(
        delete(DriveFile).where(DriveFile.connection_id == log.connection_id, DriveFile.drive_file_id.in_(file_ids))
    ).rowcount
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
        if log.sync_type == DriveSyncLog.INCREMENTAL and token:
            _incremental(log, api, token)
        else:
            log.sync_type = DriveSyncLog.FULL
            _full(log, api)
    except ProviderError as error:
        db.session.rollback()
        log = db.session.get(DriveSyncLog, log.id)
        log.duration_ms = int((time.monotonic() - started) * 1000)
        log.mark_finished(log.FAILED, f"Google Drive did not answer as expected: {str(error)[:300]}")
        connection = db.session.get(Connection, log.connection_id)
        connection.last_error = log.error_message
        connection.last_error_at = utcnow()
        return
    except oauth.ConnectionUnavailable as error:
        log.duration_ms = int((time.monotonic() - started) * 1000)
        log.mark_finished(log.FAILED, error.message)
        return
    finally:
        api.close()
    connection = db.session.get(Connection, log.connection_id)
    connection.last_sync_at = utcnow()
    log.duration_ms = int((time.monotonic() - started) * 1000)
    log.mark_finished(log.SUCCEEDED)


def _full(log: DriveSyncLog, api: DriveAPI) -> None:
    # The start token is taken first, so changes made during the listing are picked up next time.
    start_token = api.start_page_token()
    known = db.session.scalar(select(func.count()).where(DriveFile.connection_id == log.connection_id)) or 0
    seen: set[str] = set()
    page_token = None
    while True:
        body = api.files(page_token)
        _upsert(log, body.get("files") or [], seen)
        log.report_progress(len(seen), max(known, len(seen)) + 1)
        commit_progress("a Drive sync saves each page as it goes (a long job)")
        page_token = body.get("nextPageToken")
        if not page_token:
            break
    stale = db.session.scalars(
        select(DriveFile.drive_file_id).where(DriveFile.connection_id == log.connection_id)
    ).all()
    _remove(log, [file_id for file_id in stale if file_id not in seen])
    connection = db.session.get(Connection, log.connection_id)
    connection.set_detail(PAGE_TOKEN, start_token)


def _incremental(log: DriveSyncLog, api: DriveAPI, token: str) -> None:
    pages = 0
    while True:
        body = api.changes(token)
        changes = body.get("changes") or []
        _remove(log, [c.get("fileId") for c in changes if c.get("removed") and c.get("fileId")])
        for c in changes:
            if c.get("removed"):
                log.bump("scanned")
        _upsert(log, [c["file"] for c in changes if not c.get("removed") and isinstance(c.get("file"), dict)])
        pages += 1
        log.progress = min(95, pages * 20)
        if body.get("newStartPageToken"):
            connection = db.session.get(Connection, log.connection_id)
            connection.set_detail(PAGE_TOKEN, str(body["newStartPageToken"]))
            commit_progress("a Drive sync saves each page as it goes (a long job)")
            return
        token = str(body.get("nextPageToken") or "")
        commit_progress("a Drive sync saves each page as it goes (a long job)")
        if not token:
            return
