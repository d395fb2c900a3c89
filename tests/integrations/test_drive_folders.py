"""Drive folders, single-file sync, links and flags, the task cache, unlink vs delete — through the
routes, against the Drive sandbox over HTTP."""

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from tests.factories import make_org, make_user
from tests.integrations.helpers import connect, owner_and_org, sandbox
from webapp.audit.models import AuditEntry
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.files import services as files
from webapp.files.models import FileUpload
from webapp.integrations.models import DriveFile, DriveSyncLog, OutboundCall
from webapp.integrations.sandboxes._state import SandboxGoogleDriveFile
from webapp.projects import services as projects

FOLDER = "application/vnd.google-apps.folder"


def _add(sandbox_url, **data):
    return sandbox(sandbox_url, "google_drive", "/_control/files", json={"action": "add", **data})["id"]


def _sync(client, org, conn, run_jobs, sync_type="full"):
    answer = client.post(f"/o/{org.slug}/integrations/connections/{conn.id}/drive-sync", {"sync_type": sync_type})
    assert answer.status_code == 303
    run_jobs()
    db.session.expire_all()
    return db.session.scalars(select(DriveSyncLog).order_by(DriveSyncLog.id.desc())).first()


def _names(conn):
    return set(
        db.session.scalars(
            select(DriveFile.file_name).where(DriveFile.connection_id == conn.id, DriveFile.unlinked_at.is_(None))
        )
    )


def _tree(sandbox_url):
    """Clients/ (Acme/ (contract.pdf), brief.txt) and Other/ (secret.txt), in Kenji's Drive."""
    account = "kenji@drive.example"
    clients = _add(sandbox_url, account=account, name="Clients", mime_type=FOLDER)
    acme = _add(sandbox_url, account=account, name="Acme", mime_type=FOLDER, parent_id=clients)
    _add(sandbox_url, account=account, name="contract.pdf", mime_type="application/pdf", parent_id=acme, content="%PDF")
    _add(sandbox_url, account=account, name="brief.txt", parent_id=clients, content="brief", is_public=True)
    other = _add(sandbox_url, account=account, name="Other", mime_type=FOLDER)
    _add(sandbox_url, account=account, name="secret.txt", parent_id=other, content="no", can_edit=False)
    return {"clients": clients, "acme": acme, "other": other}


def test_folder_picker_and_chosen_folders_limit_the_sync(client, ctx, run_jobs, live_server, sandbox_url):
    owner, org = owner_and_org(client)
    conn = connect(client, org, "google_drive", choice="kenji@drive.example")
    tree = _tree(sandbox_url)
    base = f"/o/{org.slug}/integrations/connections/{conn.id}/folders"

    top = client.get(base)
    page = top.get_data(as_text=True)
    assert top.status_code == 200 and "Clients" in page and "Other" in page and "secret.txt" not in page
    listed = db.session.scalars(select(OutboundCall).where(OutboundCall.action == "folders_listed")).all()
    assert listed and all(call.success for call in listed)
    inside = client.get(f"{base}?parent={tree['clients']}").get_data(as_text=True)
    assert "Acme" in inside and "Other" not in inside and "↑ Up" in inside

    whole = _sync(client, org, conn, run_jobs)
    assert "secret.txt" in _names(conn) and whole.status == "SUCCEEDED"

    assert client.post(f"{base}/root", {"folder_id": tree["clients"]}).status_code == 303
    db.session.refresh(conn)
    assert conn.details["root_folder_id"] == tree["clients"] and conn.details["root_folder_name"] == "Clients"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "drive.root_folder_chosen"))
    # the choice resets the changes token: the next sync is full and drops what lies outside
    scoped = _sync(client, org, conn, run_jobs, "incremental")
    assert scoped.sync_type == "full" and scoped.status == "SUCCEEDED", scoped.error_message
    assert _names(conn) == {"Acme", "contract.pdf", "brief.txt"}
    assert scoped.counts["scanned"] == 3
    assert "Clients" in client.get(f"/o/{org.slug}/integrations/connections/{conn.id}/").get_data(as_text=True)

    # a change outside the folder is ignored by the incremental sync; one inside is picked up
    _add(sandbox_url, account="kenji@drive.example", name="outside.txt", parent_id=tree["other"])
    _add(sandbox_url, account="kenji@drive.example", name="inside.txt", parent_id=tree["acme"])
    incremental = _sync(client, org, conn, run_jobs, "incremental")
    assert incremental.sync_type == "incremental" and incremental.status == "SUCCEEDED"
    assert "inside.txt" in _names(conn) and "outside.txt" not in _names(conn)

    # a project folder: synced beside the root, its files linked to the project
    project = projects.create_project(org, owner, "Other work")
    db.session.commit()
    assert client.post(f"{base}/project", {"project_id": project.id, "folder_id": tree["other"]}).status_code == 303
    _sync(client, org, conn, run_jobs)
    secret = db.session.scalar(select(DriveFile).where(DriveFile.file_name == "secret.txt"))
    assert secret is not None and secret.project_id == project.id
    assert "outside.txt" in _names(conn)

    # not a folder / unknown: refused, nothing saved
    some_file = db.session.scalar(select(DriveFile).where(DriveFile.file_name == "brief.txt"))
    answer = client.post(f"{base}/root", {"folder_id": some_file.drive_file_id})
    assert answer.status_code == 303
    assert "not a folder" in client.get(answer.headers["Location"]).get_data(as_text=True)
    assert client.post(f"{base}/root", {"folder_id": "no-such-folder"}).status_code == 303
    db.session.refresh(conn)
    assert conn.details["root_folder_id"] == tree["clients"]
    # back to the whole Drive
    assert client.post(f"{base}/root", {"folder_id": ""}).status_code == 303
    db.session.refresh(conn)
    assert conn.details["root_folder_id"] is None


def test_hostile_folder_ids_are_escaped_in_q(client, ctx, run_jobs, live_server, sandbox_url, sandbox_db):
    _, org = owner_and_org(client)
    conn = connect(client, org, "google_drive", choice="kenji@drive.example")
    tree = _tree(sandbox_url)
    base = f"/o/{org.slug}/integrations/connections/{conn.id}/folders"
    # Unescaped, this id would close the literal and add "or 'root' in parents": every top folder.
    injection = "x' in parents or 'root' in parents or 'x"
    answer = client.get(base, query_string={"parent": injection})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 404 and "Clients" not in text and "Other" not in text
    # A real folder whose id holds a quote and a backslash (the sandbox lets us make one) is listed.
    odd = "we'ird\\id"
    _add(sandbox_url, account="kenji@drive.example", name="Odd", mime_type=FOLDER, file_id=odd)
    _add(sandbox_url, account="kenji@drive.example", name="Nested", mime_type=FOLDER, parent_id=odd)
    _add(sandbox_url, account="kenji@drive.example", name="Stray", mime_type=FOLDER, parent_id=tree["other"])
    inside = client.get(base, query_string={"parent": odd})
    page = inside.get_data(as_text=True)
    assert inside.status_code == 200 and "Nested" in page and "Stray" not in page and "Clients" not in page
    assert client.post(f"{base}/root", {"folder_id": odd}).status_code == 303
    log = _sync(client, org, conn, run_jobs)
    assert log.status == "SUCCEEDED", log.error_message
    assert _names(conn) == {"Nested"}
    # path-like ids never reach another endpoint: they are encoded into the files.get path
    assert client.get(base, query_string={"parent": "../about"}).status_code == 404
    assert client.get(base, query_string={"parent": "x" * 500}).status_code in (400, 404)
    too_long = client.post(f"{base}/root", {"folder_id": "x" * 500})
    assert too_long.status_code == 303


def test_links_flags_and_sync_one_file(client, ctx, run_jobs, live_server, sandbox_url, sandbox_db):
    _, org = owner_and_org(client)
    conn = connect(client, org, "google_drive", choice="kenji@drive.example")
    _tree(sandbox_url)
    _sync(client, org, conn, run_jobs)
    brief = db.session.scalar(select(DriveFile).where(DriveFile.file_name == "brief.txt"))
    secret = db.session.scalar(select(DriveFile).where(DriveFile.file_name == "secret.txt"))
    assert brief.web_view_link.startswith("https://drive.google.com/file/d/")
    assert brief.web_content_link.startswith("https://drive.google.com/uc?id=")
    assert (brief.is_public, brief.can_edit, brief.can_share) == (True, True, True)
    assert (secret.is_public, secret.can_edit) == (False, False)
    listing = client.get(f"/o/{org.slug}/integrations/drive/files?q=brief").get_data(as_text=True)
    assert "Public link" in listing and brief.web_content_link.replace("&", "&amp;") in listing
    photo = db.session.scalar(select(DriveFile).where(DriveFile.mime_type == "image/jpeg"))
    assert photo.thumbnail_link.startswith("https://lh3.googleusercontent.com/")
    photos = client.get(f"/o/{org.slug}/integrations/drive/files", query_string={"q": photo.file_name})
    assert photo.thumbnail_link in photos.get_data(as_text=True) and "Thumbnail" in photos.get_data(as_text=True)
    doc = db.session.scalar(select(DriveFile).where(DriveFile.mime_type == "application/vnd.google-apps.document"))
    assert doc.web_content_link is None and doc.web_view_link  # a Google Doc has no download link

    # renamed and made private at Google: "sync this file" reads it with files.get
    row = sandbox_db.scalar(select(SandboxGoogleDriveFile).where(SandboxGoogleDriveFile.file_id == brief.drive_file_id))
    sandbox(
        sandbox_url,
        "google_drive",
        "/_control/files",
        json={
            "account": row.account,
            "action": "update",
            "file_id": row.file_id,
            "name": "brief v2.txt",
            "is_public": False,
        },
    )
    calls_before = db.session.scalar(select(func.count()).select_from(OutboundCall))
    answer = client.post(f"/o/{org.slug}/integrations/drive/files/{brief.id}/sync")
    assert answer.status_code == 303
    db.session.refresh(brief)
    assert brief.file_name == "brief v2.txt" and brief.is_public is False
    calls = db.session.scalars(select(OutboundCall).where(OutboundCall.id > 0).order_by(OutboundCall.id)).all()
    assert len(calls) == calls_before + 1 and calls[-1].action == "file_read"
    assert db.session.scalar(select(func.count()).select_from(DriveSyncLog)) == 1  # no full sync ran
    # gone at Google: the single sync removes it here
    sandbox(
        sandbox_url,
        "google_drive",
        "/_control/files",
        json={"account": row.account, "action": "remove", "file_id": row.file_id},
    )
    assert client.post(f"/o/{org.slug}/integrations/drive/files/{brief.id}/sync").status_code == 303
    assert db.session.get(DriveFile, brief.id) is None


def test_cache_while_attached_to_a_task_expires_and_is_fetched_again(client, ctx, run_jobs, live_server, sandbox_url):
    owner, org = owner_and_org(client)
    conn = connect(client, org, "google_drive", choice="kenji@drive.example")
    _tree(sandbox_url)
    _sync(client, org, conn, run_jobs)
    task = projects.create_task(projects.create_project(org, owner, "Acme deal"), owner, "Review contract")
    db.session.commit()
    contract = db.session.scalar(select(DriveFile).where(DriveFile.file_name == "contract.pdf"))
    assert contract.cache_upload_id is None

    assert (
        client.post(
            f"/o/{org.slug}/projects/{task.project_id}/tasks/{task.id}/drive", {"drive_file_id": contract.id}
        ).status_code
        == 303
    )
    run_jobs()
    db.session.expire_all()
    contract = db.session.get(DriveFile, contract.id)
    upload = contract.cache_upload
    assert upload is not None and upload.file_type == "DRIVE_CACHE" and upload.size == 4
    assert contract.cache_expires_at > utcnow() + timedelta(hours=23)
    assert files.usage_by_category(org)["drive_cache"] == 4
    downloads = lambda: db.session.scalar(  # noqa: E731
        select(func.count()).select_from(OutboundCall).where(OutboundCall.action == "file_downloaded")
    )
    assert downloads() == 1
    task_page = client.get(f"/o/{org.slug}/projects/{task.project_id}/tasks/{task.id}").get_data(as_text=True)
    assert "cached copy" in task_page

    opened = client.get(f"/o/{org.slug}/integrations/drive/files/{contract.id}/cached")
    assert opened.status_code == 303 and "/files/" in opened.headers["Location"]
    served = client.get(opened.headers["Location"])
    assert served.get_data() == b"%PDF"
    served.close()
    assert downloads() == 1  # served from the cache

    with time_machine.travel(utcnow() + timedelta(hours=25)):
        from webapp.integrations.jobs import expire_drive_caches

        expire_drive_caches()
        db.session.expire_all()
        assert db.session.get(DriveFile, contract.id).cache_upload_id is None
        assert db.session.get(FileUpload, upload.id).deleted_at is not None
        assert files.usage_by_category(org)["drive_cache"] == 0
    # opened after expiry: fetched again from Drive, cached anew
    again = client.get(f"/o/{org.slug}/integrations/drive/files/{contract.id}/cached")
    assert again.status_code == 303 and downloads() == 2
    db.session.expire_all()
    contract = db.session.get(DriveFile, contract.id)
    assert contract.cache_upload_id not in (None, upload.id) and files.usage_by_category(org)["drive_cache"] == 4

    # detached from the task: the copy goes
    assert (
        client.post(
            f"/o/{org.slug}/integrations/drive/files/{contract.id}/link", {"project_id": "0", "task_id": "0"}
        ).status_code
        == 303
    )
    db.session.expire_all()
    assert db.session.get(DriveFile, contract.id).cache_upload_id is None
    assert files.usage_by_category(org)["drive_cache"] == 0


def test_unlink_keeps_the_file_in_drive_delete_moves_it_to_the_trash(
    client, ctx, run_jobs, live_server, sandbox_url, sandbox_db
):
    _, org = owner_and_org(client)
    conn = connect(client, org, "google_drive", choice="kenji@drive.example")
    _tree(sandbox_url)
    _sync(client, org, conn, run_jobs)
    brief = db.session.scalar(select(DriveFile).where(DriveFile.file_name == "brief.txt"))
    contract = db.session.scalar(select(DriveFile).where(DriveFile.file_name == "contract.pdf"))
    secret = db.session.scalar(select(DriveFile).where(DriveFile.file_name == "secret.txt"))

    confirm = client.get(f"/o/{org.slug}/integrations/drive/files/{brief.id}/delete").get_data(as_text=True)
    assert "It stays in Google Drive" in confirm and "move the file to the trash" in confirm

    assert client.post(f"/o/{org.slug}/integrations/drive/files/{brief.id}/unlink").status_code == 303
    flashed = client.get(f"/o/{org.slug}/integrations/drive/files").get_data(as_text=True)
    assert "still in Google Drive" in flashed
    assert f'id="drive-file-{brief.id}"' not in client.get(f"/o/{org.slug}/integrations/drive/files").get_data(
        as_text=True
    )
    in_drive = sandbox_db.scalar(
        select(SandboxGoogleDriveFile).where(SandboxGoogleDriveFile.file_id == brief.drive_file_id)
    )
    assert in_drive.trashed is False and in_drive.removed is False
    _sync(client, org, conn, run_jobs)
    assert "brief.txt" not in _names(conn)  # a sync does not bring it back
    assert client.post(f"/o/{org.slug}/integrations/drive/files/{brief.id}/unlink").status_code == 404

    assert client.post(f"/o/{org.slug}/integrations/drive/files/{contract.id}/trash").status_code == 303
    sandbox_db.expire_all()
    trashed = sandbox_db.scalar(
        select(SandboxGoogleDriveFile).where(SandboxGoogleDriveFile.file_id == contract.drive_file_id)
    )
    assert trashed.trashed is True and trashed.removed is False
    assert db.session.get(DriveFile, contract.id) is None
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"drive_file.unlinked", "drive_file.trashed"} <= actions

    # Drive refuses to trash a view-only file: a message, the file stays listed
    refused = client.post(f"/o/{org.slug}/integrations/drive/files/{secret.id}/trash")
    assert refused.status_code == 303
    assert "refused" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert db.session.get(DriveFile, secret.id) is not None


def test_another_orgs_drive_objects_are_404(client, make_client, ctx, run_jobs, live_server, sandbox_url):
    _, org = owner_and_org(client)
    conn = connect(client, org, "google_drive", choice="kenji@drive.example")
    _tree(sandbox_url)
    _sync(client, org, conn, run_jobs)
    drive_file = db.session.scalars(select(DriveFile)).first()
    stranger = make_user("stranger@example.com")
    other = make_org(stranger, "Other Co", "other-co")
    intruder = make_client()
    intruder.login(stranger.email)
    base = f"/o/{other.slug}/integrations"
    assert intruder.get(f"{base}/connections/{conn.id}/folders").status_code == 404
    assert intruder.post(f"{base}/connections/{conn.id}/folders/root", {"folder_id": "x"}).status_code == 404
    for action in ("sync", "unlink", "trash"):
        assert intruder.post(f"{base}/drive/files/{drive_file.id}/{action}").status_code == 404
    assert intruder.get(f"{base}/drive/files/{drive_file.id}/delete").status_code == 404
    assert intruder.get(f"{base}/drive/files/{drive_file.id}/cached").status_code == 404
    db.session.expire_all()
    assert db.session.get(DriveFile, drive_file.id).unlinked_at is None


def test_members_cannot_use_the_drive_admin_actions(client, make_client, ctx, run_jobs, live_server, sandbox_url):
    from tests.factories import add_member

    _, org = owner_and_org(client)
    conn = connect(client, org, "google_drive", choice="kenji@drive.example")
    _tree(sandbox_url)
    _sync(client, org, conn, run_jobs)
    drive_file = db.session.scalar(select(DriveFile).where(DriveFile.file_name == "brief.txt"))
    member = make_user("member@example.com")
    add_member(org, member, "MEMBER")
    db.session.commit()
    lower = make_client()
    lower.login(member.email)
    base = f"/o/{org.slug}/integrations"
    assert lower.get(f"{base}/connections/{conn.id}/folders").status_code == 403
    assert lower.post(f"{base}/connections/{conn.id}/folders/root", {"folder_id": "x"}).status_code == 403
    for action in ("sync", "unlink", "trash"):
        assert lower.post(f"{base}/drive/files/{drive_file.id}/{action}").status_code == 403
    db.session.expire_all()
    assert db.session.get(DriveFile, drive_file.id).unlinked_at is None
    # a second "move to trash" of the same file: it is gone from Tessera, so 404, and Drive was asked once
    assert client.post(f"{base}/drive/files/{drive_file.id}/trash").status_code == 303
    assert client.post(f"{base}/drive/files/{drive_file.id}/trash").status_code == 404
    trashes = db.session.scalar(
        select(func.count()).select_from(OutboundCall).where(OutboundCall.action == "file_trashed")
    )
    assert trashes == 1


def test_caching_over_the_storage_quota_is_refused_and_noted(
    client, ctx, run_jobs, live_server, sandbox_url, monkeypatch
):
    owner, org = owner_and_org(client)
    conn = connect(client, org, "google_drive", choice="kenji@drive.example")
    _add(sandbox_url, account="kenji@drive.example", name="big.txt", content="x" * 5000)
    _sync(client, org, conn, run_jobs)
    task = projects.create_task(projects.create_project(org, owner, "Big"), owner, "Read it")
    db.session.commit()
    big = db.session.scalar(select(DriveFile).where(DriveFile.file_name == "big.txt"))

    from webapp.files.models import StorageUsage

    db.session.add(StorageUsage(organization_id=org.id, category="project_assets", bytes_used=files.MIB - 10))
    db.session.commit()
    monkeypatch.setattr(files, "quota_bytes", lambda _org: files.MIB)  # a 1 MB plan with 10 bytes left
    answer = client.post(
        f"/o/{org.slug}/integrations/drive/files/{big.id}/link", {"project_id": "0", "task_id": task.id}
    )
    assert answer.status_code == 303
    run_jobs()
    db.session.expire_all()
    big = db.session.get(DriveFile, big.id)
    assert big.task_id == task.id and big.cache_upload_id is None
    refused = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "drive_file.cache_refused"))
    assert refused is not None and "storage" in refused.details["reason"].lower()
    assert files.usage_by_category(org)["drive_cache"] == 0
