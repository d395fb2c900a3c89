"""An organization suspended by staff: a Drive sync started before the suspension waits QUEUED (no
call to Drive), the scheduled syncs leave it out, and reactivation queues the waiting run again."""

from sqlalchemy import func, select

from tests.factories import make_user
from tests.integrations.helpers import connect, owner_and_org, sandbox
from webapp.extensions import db
from webapp.integrations.models import DriveFile, DriveSyncLog, OutboundCall


def test_a_drive_sync_waits_while_suspended_and_runs_after_reactivation(
    client, make_client, ctx, run_jobs, live_server, sandbox_url
):
    _, org = owner_and_org(client)
    conn = connect(client, org, "google_drive", choice="kenji@drive.example")
    sandbox(
        sandbox_url,
        "google_drive",
        "/_control/files",
        json={"action": "add", "account": "kenji@drive.example", "name": "plan.txt", "content": "plan"},
    )
    make_user("ops@sync-pause.example", staff=True)
    staff = make_client()
    staff.login("ops@sync-pause.example")
    calls_before = db.session.scalar(
        select(func.count()).select_from(OutboundCall).where(OutboundCall.provider == "google_drive")
    )
    started = client.post(f"/o/{org.slug}/integrations/connections/{conn.id}/drive-sync", {"sync_type": "full"})
    assert started.status_code == 303
    assert staff.post(f"/admin/orgs/{org.id}/suspend", {"reason": "Review"}).status_code == 303
    run_jobs()
    db.session.expire_all()
    log = db.session.scalars(select(DriveSyncLog).order_by(DriveSyncLog.id.desc())).first()
    assert log.status == DriveSyncLog.QUEUED  # waited, not failed
    assert (
        db.session.scalar(select(func.count()).select_from(OutboundCall).where(OutboundCall.provider == "google_drive"))
        == calls_before
    )  # Drive not called
    assert db.session.scalar(select(func.count()).select_from(DriveFile).where(DriveFile.connection_id == conn.id)) == 0
    assert staff.post(f"/admin/orgs/{org.id}/reactivate").status_code == 303
    run_jobs()
    db.session.expire_all()
    assert db.session.get(DriveSyncLog, log.id).status == DriveSyncLog.SUCCEEDED
    names = set(db.session.scalars(select(DriveFile.file_name).where(DriveFile.connection_id == conn.id)))
    assert "plan.txt" in names
