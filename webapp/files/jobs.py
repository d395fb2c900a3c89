from sqlalchemy import select

from webapp.extensions import db
from webapp.files import services as files
from webapp.files.models import FileUpload, StorageUsage
from webapp.jobs import job, periodic


@job(queue="default", retries=5, backoff=(30, 60, 300, 900, 3600))
def scan_upload(file_id: int) -> None:
    upload = db.session.get(FileUpload, file_id, with_for_update=True)
    if upload is not None:
        files.finish_scan(upload)


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
