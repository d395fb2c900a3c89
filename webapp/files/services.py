"""File rules: type from the content, block list, per-file limit, plan storage quota checked before
anything is stored, MD5 while streaming, virus scan when configured, usage kept current."""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, BinaryIO

import filetype
from flask import current_app, url_for
from sqlalchemy import func, select, update

from webapp.audit import record
from webapp.core.errors import DomainError, LimitExceeded
from webapp.core.models import rowcount, utcnow
from webapp.core.parsing import int_or_none
from webapp.core.terms import N_
from webapp.extensions import db
from webapp.files.models import CATEGORIES, CATEGORY, FILE_TYPES, FileUpload, StorageUsage
from webapp.settings import define, get
from webapp.storage import StorageError, storage

define("files.max_file_mb", int, 25, "Largest single upload, in MB", minimum=1)
define("files.temporary_hours", int, 24, "Hours a temporary upload is kept", minimum=1)
define("files.download_link_minutes", int, 15, "Minutes a signed download link works", minimum=1)

MIB = 1024 * 1024
SNIFF_BYTES = 8192
# Refused whatever they are called: programs and scripts a browser or desktop would run.
BLOCKED_MIME = {
    "application/x-msdownload",
    "application/x-dosexec",
    "application/x-executable",
    "application/x-elf",
    "application/x-mach-binary",
    "application/x-sharedlib",
    "application/vnd.microsoft.portable-executable",
    "application/x-sh",
    "application/x-shellscript",
    "text/html",
    "application/javascript",
    "image/svg+xml",
}
BLOCKED_EXTENSIONS = {
    ".exe",
    ".dll",
    ".com",
    ".bat",
    ".cmd",
    ".msi",
    ".scr",
    ".ps1",
    ".vbs",
    ".js",
    ".jar",
    ".sh",
    ".elf",
    ".app",
    ".html",
    ".htm",
    ".svg",
    ".php",
    ".py",
}


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def detect_type(header: bytes, name: str) -> str:
    """The MIME type the bytes say, not the name. Text without a signature is text/plain."""
    kind = filetype.guess(header)
    if kind is not None:
        return "application/x-msdownload" if kind.mime == "application/x-msdownload" else kind.mime
    if header.startswith(b"#!"):
        return "application/x-shellscript"
    lowered = header[:512].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<script")):
        return "text/html"
    if lowered.startswith(b"<svg") or (lowered.startswith(b"<?xml") and b"<svg" in lowered):
        return "image/svg+xml"
    try:
        header.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def check_content(header: bytes, name: str) -> str:
    """Refuse dangerous content and names whose extension claims another kind of file."""
    mime = detect_type(header, name)
    extension = _extension(name)
    if mime in BLOCKED_MIME or extension in BLOCKED_EXTENSIONS:
        raise DomainError(f"Files of this kind ({mime}) cannot be uploaded.", field="file", code="blocked_type")
    claimed, _ = mimetypes.guess_type(name)
    if claimed and claimed != mime:
        textual = mime == "text/plain" and claimed.startswith("text/")
        if not textual and not (
            claimed.split("/")[0] == mime.split("/")[0] == "image" and extension in {".jpg", ".jpeg"}
        ):
            raise DomainError(
                f"The name says {claimed} but the content is {mime}. Rename the file or upload the right one.",
                field="file",
                code="type_mismatch",
            )
    return mime


def _stream_size(stream: BinaryIO) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def bytes_used(org) -> int:
    return (
        db.session.scalar(
            select(func.coalesce(func.sum(StorageUsage.bytes_used), 0)).where(StorageUsage.organization_id == org.id)
        )
        or 0
    )


def quota_bytes(org) -> int | None:
    from webapp.subscriptions.services import plan_limit

    limit_mb = plan_limit(org, "storage_mb")
    return None if limit_mb is None else limit_mb * MIB


def check_quota(org, adding: int) -> None:
    quota = quota_bytes(org)
    if quota is None:
        return
    used = bytes_used(org)
    if used + adding > quota:
        from webapp.subscriptions.limits import limit_message

        raise LimitExceeded(
            limit_message(org, "storage_mb", quota // MIB)
            + f" This file needs {adding:,} bytes; {max(quota - used, 0):,} of {quota:,} bytes are free.",
            limit="storage_mb",
            code="storage_quota_exceeded",
            field="file",
            details={"used": used, "quota": quota, "needed": adding},
        )


def count_stored(org_id: int, category: str, delta_bytes: int, delta_files: int = 0) -> None:
    """Another domain's bytes in storage (Studio videos) enter or leave the organization's usage."""
    _adjust_usage(org_id, category, delta_bytes, delta_files)


def _adjust_usage(org_id: int, category: str, delta_bytes: int, delta_files: int) -> None:
    changed = rowcount(
        db.session.execute(
            update(StorageUsage)
            .where(StorageUsage.organization_id == org_id, StorageUsage.category == category)
            .values(bytes_used=StorageUsage.bytes_used + delta_bytes, file_count=StorageUsage.file_count + delta_files)
        )
    )
    if not changed:
        db.session.add(
            StorageUsage(
                organization_id=org_id,
                category=category,
                bytes_used=max(delta_bytes, 0),
                file_count=max(delta_files, 0),
            )
        )
        db.session.flush()


class _Hashing:
    """Reads through a stream while computing its MD5."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.md5 = hashlib.md5(usedforsecurity=False)

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.md5.update(chunk)
        return chunk


def upload_file(
    org, user, stream: BinaryIO, filename: str, file_type: str, *, project=None, task=None, temporary: bool = False
) -> FileUpload:
    name = (filename or "").replace("\\", "/").split("/")[-1].strip()[:255]
    if not name:
        raise DomainError(N_("Choose a file to upload."), field="file")
    if file_type not in FILE_TYPES:
        raise DomainError(N_("Choose what the file is for."), field="file_type")
    temporary = temporary or file_type == "TEMPORARY_UPLOAD"
    size = _stream_size(stream)
    if size == 0:
        raise DomainError(N_("The file is empty."), field="file")
    max_bytes = get("files.max_file_mb") * MIB
    if size > max_bytes:
        raise DomainError(
            f"The file is {size / MIB:.1f} MB; the limit is {max_bytes // MIB} MB.", field="file", code="file_too_large"
        )
    mime = check_content(stream.read(SNIFF_BYTES), name)
    stream.seek(0)
    check_quota(org, size)

    upload = FileUpload(
        organization_id=org.id,
        created_by_id=user.id,
        original_name=name,
        storage_key="",
        size=size,
        mime_type=mime,
        file_type=file_type,
        project_id=getattr(project, "id", None),
        task_id=getattr(task, "id", None),
        is_temporary=temporary,
        expires_at=utcnow() + timedelta(hours=get("files.temporary_hours")) if temporary else None,
    )
    db.session.add(upload)
    db.session.flush()
    upload.storage_key = f"files/{org.id}/{upload.id}/{uuid.uuid4().hex}"
    hashing = _Hashing(stream)
    try:
        stored = storage().save(upload.storage_key, hashing, max_bytes=max_bytes, content_type=mime)
    except StorageError as error:
        upload.status = FileUpload.FAILED
        upload.scan_result = f"storage refused the file: {error}"
        record(user, "file.upload_failed", upload, {"name": name})
        return upload
    upload.size = stored
    upload.checksum_md5 = hashing.md5.hexdigest()
    _adjust_usage(org.id, upload.category, stored, 1)
    from webapp.files.scan import scanner_configured

    if scanner_configured():
        from webapp.files.jobs import scan_upload

        upload.status = FileUpload.SCAN_PENDING
        scan_upload.delay(upload.id)
    else:
        upload.status = FileUpload.COMPLETED
        upload.scan_result = N_("not scanned: no virus scanner (CLAMD_HOST) is configured")
    record(user, "file.uploaded", upload, {"name": name, "size": stored, "mime": mime})
    return upload


def store_drive_cache(org_id: int, name: str, mime: str, content: bytes, expires_at, actor=None) -> FileUpload:
    """A Drive file's content kept while it is attached to a task (type DRIVE_CACHE, category
    drive_cache): stored like any upload and counted against the plan's storage."""
    import io

    from webapp.orgs.models import Organization

    check_quota(db.session.get(Organization, org_id), len(content))
    upload = FileUpload(
        organization_id=org_id,
        created_by_id=getattr(actor, "id", None),
        original_name=(name or "drive-file")[:255],
        storage_key="",
        size=len(content),
        mime_type=(mime or "application/octet-stream")[:127],
        file_type="DRIVE_CACHE",
        status=FileUpload.COMPLETED,
        scan_result=N_("a cached copy of a Google Drive file"),
        checksum_md5=hashlib.md5(content, usedforsecurity=False).hexdigest(),
        expires_at=expires_at,
    )
    db.session.add(upload)
    db.session.flush()
    upload.storage_key = f"drive-cache/{org_id}/{upload.id}/{uuid.uuid4().hex}"
    storage().save(upload.storage_key, io.BytesIO(content), content_type=upload.mime_type)
    _adjust_usage(org_id, "drive_cache", len(content), 1)
    return upload


def finish_scan(upload: FileUpload) -> None:
    """Run the scanner on a pending upload: COMPLETED, or VIRUS_DETECTED with the bytes quarantined."""
    from webapp.files.scan import ScanUnavailable, scan_stream

    if upload.status != FileUpload.SCAN_PENDING:
        return
    try:
        with storage().open(upload.storage_key) as fh:
            clean, answer = scan_stream(fh)
    except ScanUnavailable:
        raise  # the job retries; the file stays pending and cannot be downloaded
    upload.scan_result = answer[:1000]
    if clean:
        upload.status = FileUpload.COMPLETED
        record(None, "file.scanned_clean", upload)
        return
    quarantine = f"quarantine/{upload.storage_key}"
    with storage().open(upload.storage_key) as fh:
        storage().save(quarantine, fh)
    storage().delete(upload.storage_key)
    upload.storage_key = quarantine
    upload.status = FileUpload.VIRUS_DETECTED
    _adjust_usage(upload.organization_id, upload.category, -upload.size, -1)
    record(None, "file.virus_detected", upload, {"scanner": upload.scan_result})


def fail_scan(upload: FileUpload, reason: str) -> None:
    """No verdict will come: the file is never served, and stops counting against the quota."""
    upload.status = FileUpload.FAILED
    upload.scan_result = reason[:1000]
    _adjust_usage(upload.organization_id, upload.category, -upload.size, -1)
    record(None, "file.scan_failed", upload, {"reason": upload.scan_result})


def delete_file(upload: FileUpload, actor) -> None:
    if upload.deleted_at is not None:
        raise DomainError(N_("That file is already deleted."))
    storage().delete(upload.storage_key)
    upload.deleted_at = utcnow()
    if upload.status in (FileUpload.COMPLETED, FileUpload.SCAN_PENDING):
        _adjust_usage(upload.organization_id, upload.category, -upload.size, -1)
    record(actor, "file.deleted", upload, {"name": upload.original_name})


def expire_temporary_files(now=None) -> int:
    now = now or utcnow()
    expired = db.session.scalars(
        select(FileUpload)
        .where(FileUpload.is_temporary.is_(True), FileUpload.expires_at <= now, FileUpload.deleted_at.is_(None))
        .limit(1000)
    ).all()
    for upload in expired:
        delete_file(upload, None)
    return len(expired)


@dataclass(frozen=True)
class AttachTo:
    """A kind of row an upload can be attached to (a project, a task), declared by its domain at start."""

    model: Any  # a mapped class with organization_id
    label: Callable[[Any], str]
    limit: int | None = None  # rows offered in the upload form's choice


# By the upload's column ("project_id", "task_id"); upload_file takes the rows as project=, task=.
ATTACHABLE: dict[str, AttachTo] = {}


def attachable(column: str, model: Any, label: Callable[[Any], str], limit: int | None = None) -> None:
    ATTACHABLE[column] = AttachTo(model, label, limit)


def first_attachable(column: str, org):
    """The organization's first row of that kind (for demo data), or None."""
    target = ATTACHABLE.get(column)
    if target is None:
        return None
    return db.session.scalar(select(target.model).where(target.model.organization_id == org.id).limit(1))


# A category whose bytes live in another domain's tables (studio's videos): its (bytes, count) for an
# organization, declared by that domain at start.
COUNTED_ELSEWHERE: dict[str, Callable[[int], tuple[int, int]]] = {}


def recalculate_usage(org_id: int) -> dict[str, tuple[int, int]]:
    """Rebuild the organization's usage rows from its live files (the daily check on the running totals)."""
    totals = {c: (0, 0) for c in CATEGORIES}
    rows = db.session.execute(
        select(FileUpload.file_type, func.coalesce(func.sum(FileUpload.size), 0), func.count())
        .where(
            FileUpload.organization_id == org_id,
            FileUpload.deleted_at.is_(None),
            FileUpload.status.in_((FileUpload.COMPLETED, FileUpload.SCAN_PENDING)),
        )
        .group_by(FileUpload.file_type)
    ).all()
    for file_type, size, count in rows:
        category = CATEGORY[file_type]
        old_size, old_count = totals[category]
        totals[category] = (old_size + int(size), old_count + count)
    for category, stored in COUNTED_ELSEWHERE.items():
        totals[category] = stored(org_id)
    existing = {
        u.category: u for u in db.session.scalars(select(StorageUsage).where(StorageUsage.organization_id == org_id))
    }
    now = utcnow()
    for category, (size, count) in totals.items():
        row = existing.get(category)
        if row is None:
            if not size and not count:
                continue
            row = StorageUsage(organization_id=org_id, category=category)
            db.session.add(row)
        row.bytes_used, row.file_count, row.last_calculated = size, count, now
    return totals


def usage_by_category(org) -> dict[str, int]:
    rows = db.session.execute(
        select(StorageUsage.category, StorageUsage.bytes_used).where(StorageUsage.organization_id == org.id)
    ).all()
    usage = {c: 0 for c in CATEGORIES}
    usage.update({c: int(b) for c, b in rows})
    return usage


# Signed download links ---------------------------------------------------------------------------


def _signature(org_id: int, file_id: int, expires: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"file:{org_id}:{file_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def download_url(org, upload: FileUpload) -> str:
    expires = int(time.time()) + get("files.download_link_minutes") * 60
    return url_for(
        "files.download",
        slug=org.slug,
        file_id=upload.id,
        expires=expires,
        signature=_signature(org.id, upload.id, expires),
    )


def check_download(org, upload: FileUpload, expires: str, signature: str) -> None:
    """The link must be this organization's, for this file, unexpired, and the file must be clean."""
    if int_or_none(expires) is None or int(expires) < time.time():
        raise DomainError(N_("This download link has expired. Open the file list for a new one."), code="link_expired")
    if not hmac.compare_digest(_signature(org.id, upload.id, int(expires)), signature or ""):
        raise DomainError(N_("This download link is not valid."), code="link_invalid")
    if not upload.downloadable:
        raise DomainError(N_("This file cannot be downloaded."), code="not_downloadable")
