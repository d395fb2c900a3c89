import io
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.factories import add_member, make_org, make_user
from tests.files.clamd_server import EICAR, ClamdServer
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.files import services as files
from webapp.files.models import FileUpload, StorageUsage
from webapp.storage import storage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"x" * 100
EXE = b"MZ" + b"\x90\x00" * 64


@pytest.fixture
def team(ctx):
    owner = make_user("owner@files.example")
    org = make_org(owner, "Files Co", "files-co")
    return owner, org


def _upload(client, org, name, content, file_type="PROJECT_ASSET", **extra):
    data = {"file": (io.BytesIO(content), name), "file_type": file_type, "project_id": "", "task_id": "", **extra}
    return client.post(f"/o/{org.slug}/files/", data, content_type="multipart/form-data")


def _set_quota_mb(org, mb):
    from webapp.subscriptions.services import current_subscription

    sub = current_subscription(org)
    sub.plan.max_storage_mb = mb
    db.session.commit()


def test_upload_records_type_from_content_checksum_and_usage(client, team):
    owner, org = team
    client.login(owner.email)
    response = _upload(client, org, "logo.png", PNG)
    assert response.status_code == 303
    upload = db.session.scalar(select(FileUpload))
    assert (upload.mime_type, upload.size, upload.status) == ("image/png", len(PNG), "COMPLETED")
    assert upload.checksum_md5 == __import__("hashlib").md5(PNG).hexdigest()
    assert "no virus scanner" in upload.scan_result
    with storage().open(upload.storage_key) as fh:
        assert fh.read() == PNG
    usage = db.session.scalar(select(StorageUsage).where(StorageUsage.category == "project_assets"))
    assert (usage.bytes_used, usage.file_count) == (len(PNG), 1)
    page = client.get(f"/o/{org.slug}/files/").get_data(as_text=True)
    assert "logo.png" in page and "image/png" in page


def test_spoofed_and_dangerous_content_is_refused(client, team):
    owner, org = team
    client.login(owner.email)
    spoof = _upload(client, org, "holiday.png", EXE)
    assert spoof.status_code == 422 and "cannot be uploaded" in spoof.get_data(as_text=True)
    mismatch = _upload(client, org, "report.png", PDF)
    assert mismatch.status_code == 422 and "content is application/pdf" in mismatch.get_data(as_text=True)
    script = _upload(client, org, "notes.txt", b"#!/bin/sh\nrm -rf /\n")
    assert script.status_code == 422
    html = _upload(client, org, "page.txt", b"<!DOCTYPE html><script>alert(1)</script>")
    assert html.status_code == 422
    assert db.session.scalar(select(FileUpload)) is None


def test_quota_boundary_exactly_at_limit_and_one_byte_over(client, team):
    owner, org = team
    client.login(owner.email)
    _set_quota_mb(org, 1)
    first = b"%PDF-1.4\n" + b"a" * (files.MIB - 9 - 100)
    files.upload_file(org, owner, io.BytesIO(first), "a.pdf", "PROJECT_ASSET")  # fill most of the quota
    db.session.commit()
    exact = b"%PDF-1.4\n" + b"b" * (100 - 9)
    assert _upload(client, org, "b.pdf", exact).status_code == 303
    assert files.bytes_used(org) == files.MIB
    over = _upload(client, org, "c.txt", b"x")
    body = over.get_data(as_text=True)
    assert over.status_code == 422 and "1 MB" in body and "/subscription" in body and "0 of 1,048,576 bytes" in body
    assert db.session.scalar(select(FileUpload).where(FileUpload.original_name == "c.txt")) is None


def test_delete_removes_bytes_and_usage_and_only_owner_or_uploader_may(client, make_client, team):
    owner, org = team
    member = make_user("member@files.example")
    add_member(org, member, "MEMBER")
    other = make_client()
    other.login(member.email)
    client.login(owner.email)
    assert _upload(client, org, "plan.pdf", PDF).status_code == 303
    upload = db.session.scalar(select(FileUpload))
    assert other.post(f"/o/{org.slug}/files/{upload.id}/delete").status_code == 403
    path = storage().path(upload.storage_key)
    assert path.exists()
    assert client.post(f"/o/{org.slug}/files/{upload.id}/delete").status_code == 303
    db.session.refresh(upload)
    assert upload.deleted_at is not None and not path.exists()
    assert files.bytes_used(org) == 0


def test_signed_download_link_is_bound_to_org_file_and_time(client, make_client, team):
    owner, org = team
    client.login(owner.email)
    _upload(client, org, "plan.pdf", PDF)
    upload = db.session.scalar(select(FileUpload))
    page = client.get(f"/o/{org.slug}/files/").get_data(as_text=True)
    link = re.search(r'href="(/o/files-co/files/\d+/download\?[^"]+)"', page).group(1).replace("&amp;", "&")
    got = client.get(link)
    assert got.status_code == 200 and got.data == PDF
    got.close()
    # tampering with the expiry breaks the signature
    assert client.get(re.sub(r"expires=\d+", "expires=9999999999", link)).status_code == 403
    # another organization's member with the same link: not their organization → 404
    stranger = make_user("stranger@files.example")
    other_org = make_org(stranger, "Other", "other-co")
    outsider = make_client()
    outsider.login(stranger.email)
    assert outsider.get(link).status_code == 404
    # a link signed for one organization does not open the file under another organization's address
    forged = link.replace("/o/files-co/", f"/o/{other_org.slug}/")
    assert outsider.get(forged).status_code == 404
    with time_machine.travel(utcnow() + timedelta(minutes=16)):
        expired = client.get(link)
    assert expired.status_code == 403 and "expired" in expired.get_data(as_text=True)
    assert upload.downloadable


def test_temporary_files_expire_with_their_bytes(client, team, run_jobs):
    owner, org = team
    client.login(owner.email)
    _upload(client, org, "scratch.txt", b"temporary notes", file_type="TEMPORARY_UPLOAD")
    upload = db.session.scalar(select(FileUpload))
    path = storage().path(upload.storage_key)
    assert upload.is_temporary and upload.expires_at and path.exists()
    assert files.expire_temporary_files() == 0
    with time_machine.travel(utcnow() + timedelta(hours=25)):
        from webapp.files.jobs import delete_expired_temporary_files

        delete_expired_temporary_files()
    db.session.refresh(upload)
    assert upload.deleted_at is not None and not path.exists()
    assert files.bytes_used(org) == 0


def test_usage_recalculation_repairs_drift(ctx, team):
    owner, org = team
    files.upload_file(org, owner, io.BytesIO(PDF), "a.pdf", "PROJECT_ASSET")
    db.session.commit()
    row = db.session.scalar(select(StorageUsage))
    row.bytes_used = 999999
    db.session.commit()
    from webapp.files.jobs import recalculate_storage_usage

    recalculate_storage_usage()
    db.session.refresh(row)
    assert row.bytes_used == len(PDF) and row.file_count == 1


def test_virus_scan_quarantines_infected_files(client, app, team, run_jobs):
    owner, org = team
    clamd = ClamdServer()
    app.config.update(CLAMD_HOST="127.0.0.1", CLAMD_PORT=clamd.port)
    try:
        client.login(owner.email)
        assert _upload(client, org, "clean.txt", b"hello there").status_code == 303
        assert _upload(client, org, "eicar.txt", EICAR).status_code == 303
        pending = db.session.scalars(select(FileUpload).order_by(FileUpload.id)).all()
        assert [f.status for f in pending] == ["VIRUS_SCAN_PENDING", "VIRUS_SCAN_PENDING"]
        run_jobs()
        clean, infected = db.session.scalars(select(FileUpload).order_by(FileUpload.id)).all()
        db.session.refresh(clean)
        db.session.refresh(infected)
        assert clean.status == "COMPLETED" and clean.scan_result == "stream: OK"
        assert infected.status == "VIRUS_DETECTED" and "FOUND" in infected.scan_result
        assert infected.storage_key.startswith("quarantine/") and storage().exists(infected.storage_key)
        assert files.bytes_used(org) == len(b"hello there")
        assert clamd.scanned == 2
    finally:
        app.config.update(CLAMD_HOST="", CLAMD_PORT=3310)
        clamd.close()
