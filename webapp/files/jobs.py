from sqlalchemy import select

from webapp.core.models import get_existing
from webapp.extensions import db
from webapp.files import services as files
from webapp.files.models import FileUpload, StorageUsage
from webapp.jobs import job, lease, periodic


@job(queue="default", retries=5, backoff=(30, 60, 300, 900, 3600))
def scan_upload(file_id: int) -> None:
    owner = lease.claim(FileUpload, file_id, FileUpload.status == FileUpload.SCAN_PENDING)
    if owner is None:
        return  # scanned already, deleted, or another worker has it
    with lease.held(FileUpload, file_id, owner, max_seconds=scan_upload.timeout):
        # The row stays locked through the scan (against a delete meanwhile); the sweeper skips a
        # locked row, and a dead worker's lock goes with its connection.
        upload = get_existing(FileUpload, file_id, with_for_update=True, populate_existing=True)
        files.finish_scan(upload)


@lease.on_expiry(FileUpload)
def _scan_lease_expired(upload: FileUpload) -> tuple[str, str]:
    """A scan only reads the file until its verdict, so it is queued again; a file whose scan killed
    the worker too often (a scanner crash, a decompression bomb) fails and cannot be downloaded."""
    if upload.status != FileUpload.SCAN_PENDING:
        return lease.RELEASED, ""
    if lease.requeue_allowed(upload):
        scan_upload.delay(upload.id)
        return lease.REQUEUED, "The worker stopped during the virus scan; the scan was queued again."
    reason = (
        f"not scanned: the worker stopped during the virus scan {lease.times(upload.lease_expiries)}; "
        "upload the file again"
    )
    files.fail_scan(upload, reason)
    return lease.FAILED, reason


@periodic("*/15 * * * *")
@job(queue="maintenance")
def delete_expired_temporary_files() -> None:
    """Temporary uploads past ``expires_at`` lose their bytes and leave the usage figures."""
    from webapp.audit import record

    deleted = files.expire_temporary_files()
    if deleted:
        record(None, "file.temporary_expired", None, {"files": deleted})


@periodic("41 2 * * *")
@job(queue="maintenance")
def recalculate_storage_usage() -> None:
    """Daily: rebuild every organization's usage rows from its files."""
    org_ids = set(db.session.scalars(select(FileUpload.organization_id).distinct()))
    org_ids |= set(db.session.scalars(select(StorageUsage.organization_id).distinct()))
    for org_id in sorted(org_ids):
        files.recalculate_usage(org_id)
