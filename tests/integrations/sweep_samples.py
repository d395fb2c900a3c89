"""One of each object behind an ``<..._id>`` URL of /o/<slug>/integrations/, for the tenancy sweep."""

from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.models import Connection, DriveFile, DriveSyncLog, FreeeSyncJob


def _connection(org, user, provider="freee", account="1001") -> Connection:
    connection = Connection(
        organization_id=org.id,
        created_by_id=user.id,
        provider=provider,
        account_id=account,
        account_name="Sample",
        status=Connection.DISCONNECTED,
    )
    db.session.add(connection)
    db.session.commit()
    return connection


def _connection_id(org, user):
    return _connection(org, user).id


def _freee_sync_job_id(org, user):
    connection = _connection(org, user, account="2002")
    job = FreeeSyncJob(
        organization_id=org.id, connection_id=connection.id, freee_company_id=2002, entity_types=["partners"]
    )
    db.session.add(job)
    db.session.commit()
    return job.id


def _drive_sync_log_id(org, user):
    connection = _connection(org, user, provider="google_drive", account="sample@drive.example")
    log = DriveSyncLog(organization_id=org.id, connection_id=connection.id)
    db.session.add(log)
    db.session.commit()
    return log.id


def _drive_file_id(org, user):
    connection = _connection(org, user, provider="google_drive", account="other@drive.example")
    drive_file = DriveFile(
        organization_id=org.id,
        connection_id=connection.id,
        drive_file_id="sample-file",
        file_name="Sample.pdf",
        mime_type="application/pdf",
        web_view_link="https://drive.google.com/file/d/sample/view",
        drive_modified_at=utcnow(),
    )
    db.session.add(drive_file)
    db.session.commit()
    return drive_file.id


SAMPLES = {
    "provider": lambda org, user: "freee",  # a provider name, not an object: the connect button
    "connection_id": _connection_id,
    "freee_sync_job_id": _freee_sync_job_id,
    "drive_sync_log_id": _drive_sync_log_id,
    "drive_file_id": _drive_file_id,
}
