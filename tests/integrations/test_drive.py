from sqlalchemy import func, select

from tests.integrations.helpers import connect, fault, owner_and_org, sandbox
from webapp.extensions import db
from webapp.integrations.models import Connection, DriveFile, DriveSyncLog, OutboundCall
from webapp.integrations.sandboxes._state import SandboxGoogleDriveToken
from webapp.projects import services as projects


def _files(conn):
    return db.session.scalar(select(func.count()).select_from(DriveFile).where(DriveFile.connection_id == conn.id))


def _sync(client, org, conn, run_jobs, sync_type="incremental"):
    response = client.post(f"/o/{org.slug}/integrations/connections/{conn.id}/drive-sync", {"sync_type": sync_type})
    assert response.status_code == 303
    run_jobs()
    db.session.expire_all()
    return db.session.scalars(select(DriveSyncLog).order_by(DriveSyncLog.id.desc())).first()


def test_connect_full_and_incremental_sync_link_open_disconnect(
    client, ctx, run_jobs, live_server, sandbox_url, sandbox_db
):
    owner, org = owner_and_org(client)
    conn = connect(client, org, "google_drive", choice="ana@drive.example")
    assert conn.account_id == "ana@drive.example" and conn.account_name == "Ana Moyo"
    assert conn.details["quota_total"] == 15 * 1024**3 and conn.details["quota_used"] > 0
    page = client.get(f"/o/{org.slug}/integrations/").get_data(as_text=True)
    assert "Ana Moyo" in page and "<meter" in page and "of 15 GB" in page

    # the first sync is full even when incremental is asked: there is no page token yet
    full = _sync(client, org, conn, run_jobs)
    assert full.status == "SUCCEEDED" and full.sync_type == "full", full.error_message
    assert full.counts == {"scanned": 27, "added": 27, "updated": 0, "removed": 0}
    assert full.duration_ms is not None and _files(conn) == 27
    db.session.refresh(conn)
    assert conn.details["changes_page_token"] and conn.last_sync_at is not None
    listed = list(db.session.scalars(select(OutboundCall).where(OutboundCall.action == "files_listed")))
    assert len(listed) == 1 and listed[0].provider_request_id

    # changes at Google: one added, one renamed, one removed → an incremental sync sees exactly those
    some = db.session.scalars(select(DriveFile).where(DriveFile.mime_type == "image/jpeg")).all()
    sandbox(sandbox_url, "google_drive", "/_control/files", json={"action": "add", "name": "Brief.txt"})
    sandbox(
        sandbox_url,
        "google_drive",
        "/_control/files",
        json={"action": "update", "file_id": some[0].drive_file_id, "name": "Renamed.jpg"},
    )
    sandbox(sandbox_url, "google_drive", "/_control/files", json={"action": "remove", "file_id": some[1].drive_file_id})
    incremental = _sync(client, org, conn, run_jobs)
    assert incremental.sync_type == "incremental" and incremental.status == "SUCCEEDED"
    assert incremental.counts == {"scanned": 3, "added": 1, "updated": 1, "removed": 1}
    assert _files(conn) == 27
    assert db.session.scalar(select(DriveFile).where(DriveFile.drive_file_id == some[0].drive_file_id)).file_name == (
        "Renamed.jpg"
    )
    nothing = _sync(client, org, conn, run_jobs)
    assert nothing.counts["scanned"] == 0

    # browse, search, link to a task, open at Google
    project = projects.create_project(org, owner, "Shop refit")
    task = projects.create_task(project, owner, "Order shelving")
    db.session.commit()
    listing = client.get(f"/o/{org.slug}/integrations/drive/files?q=renamed").get_data(as_text=True)
    assert "Renamed.jpg" in listing and "Budget" not in listing
    target = db.session.scalar(select(DriveFile).where(DriveFile.file_name == "Renamed.jpg"))
    linked = client.post(
        f"/o/{org.slug}/integrations/drive/files/{target.id}/link", {"project_id": "0", "task_id": str(task.id)}
    )
    assert linked.status_code == 303
    db.session.refresh(target)
    assert target.task_id == task.id and target.project_id == project.id
    opened = client.get(f"/o/{org.slug}/integrations/drive/files/{target.id}/open")
    assert opened.status_code == 303 and opened.headers["Location"] == target.web_view_link
    fragment = client.get(f"/o/{org.slug}/integrations/drive/files?q=renamed", htmx=True).get_data(as_text=True)
    assert "Renamed.jpg" in fragment and "<html" not in fragment

    response = client.post(f"/o/{org.slug}/integrations/connections/{conn.id}/disconnect")
    assert response.status_code == 303
    db.session.expire_all()
    conn = db.session.get(Connection, conn.id)
    assert conn.status == "DISCONNECTED" and conn.access_token_ciphertext is None
    assert (
        sandbox_db.scalar(
            select(func.count()).where(
                SandboxGoogleDriveToken.revoked_at.is_(None), SandboxGoogleDriveToken.kind != "code"
            )
        )
        == 0
    )
    refused = client.post(f"/o/{org.slug}/integrations/connections/{conn.id}/sync")
    assert refused.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(DriveSyncLog)) == 3
    # reconnecting the same account reuses the row and keeps its history
    again = connect(client, org, "google_drive", choice="ana@drive.example")
    assert again.id == conn.id and again.status == "CONNECTED"


def test_linking_refuses_another_orgs_task(client, ctx, run_jobs):
    from tests.factories import make_org, make_user

    _owner, org = owner_and_org(client)
    conn = connect(client, org, "google_drive", choice="kenji@drive.example")
    _sync(client, org, conn, run_jobs)
    stranger = make_user("stranger@example.com")
    other = make_org(stranger)
    foreign_task = projects.create_task(projects.create_project(other, stranger, "Theirs"), stranger, "Secret")
    db.session.commit()
    drive_file = db.session.scalars(select(DriveFile)).first()
    response = client.post(
        f"/o/{org.slug}/integrations/drive/files/{drive_file.id}/link", {"project_id": "0", "task_id": foreign_task.id}
    )
    assert response.status_code == 303
    db.session.refresh(drive_file)
    assert drive_file.task_id is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Choose a task of this organization" in page


def test_429_and_5xx_mid_drive_sync(client, ctx, run_jobs, live_server, sandbox_url):
    _, org = owner_and_org(client)
    conn = connect(client, org, "google_drive")
    fault(sandbox_url, "google_drive", "/drive/v3/files", 429, times=1, retry_after=1)
    ok = _sync(client, org, conn, run_jobs, "full")
    assert ok.status == "SUCCEEDED" and ok.counts["added"] == 27
    fault(sandbox_url, "google_drive", "/drive/v3/changes", 502, times=20)
    failed = _sync(client, org, conn, run_jobs)
    assert failed.status == "FAILED" and "502" in failed.error_message
    db.session.refresh(conn)
    assert conn.status == "CONNECTED" and conn.last_error
    assert _files(conn) == 27  # nothing lost
    sandbox(sandbox_url, "google_drive", "/_control/faults", method="DELETE")
    assert _sync(client, org, conn, run_jobs).status == "SUCCEEDED"


def test_progress_fragment_polls_while_queued(client, ctx):
    _, org = owner_and_org(client)
    conn = connect(client, org, "google_drive")
    first = client.post(f"/o/{org.slug}/integrations/connections/{conn.id}/sync")
    assert first.status_code == 303
    log = db.session.scalars(select(DriveSyncLog)).one()
    progress = client.get(f"/o/{org.slug}/integrations/drive-syncs/{log.id}/progress", htmx=True)
    text = progress.get_data(as_text=True)
    assert "<progress" in text and ('hx-trigger="every 1s"' in text or "Succeeded" in text)
