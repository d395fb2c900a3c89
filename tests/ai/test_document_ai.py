"""Document analysis through the routes against the AI sandbox: text and PDF uploads, a synced Drive
file, hostile files refused with a message (and no charge), and "create tasks from this"."""

import io

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from sqlalchemy import func, select

from tests.factories import add_member, make_org, make_user
from webapp.ai import credits
from webapp.ai.models import AiCreditBalance, AiReport, AiTaskProposal, AiUsageLog
from webapp.extensions import db
from webapp.projects import services as projects

MEMO = """Supply agreement with Mutare Mills.
The agreement starts on 2027-01-15 and runs for a year. The deposit of USD 2,500.00 is due on 3 February 2027.
- Sign the agreement
- Pay the deposit
TODO: Book the delivery truck
"""


def _setup(client):
    owner = make_user(name="Olivia Owner")
    org = make_org(owner)
    credits.balance_of(org)
    credits.adjust(org, owner, 2000, "BONUS", "Test credits")
    project = projects.create_project(org, owner, "Supplies")
    db.session.commit()
    client.login(owner.email)
    return owner, org, project


def _balance(org) -> int:
    db.session.expire_all()
    return db.session.scalar(select(AiCreditBalance.balance).where(AiCreditBalance.organization_id == org.id))


def _pdf(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in text.splitlines():
        pdf.multi_cell(0, 6, line or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _upload(client, org, name: str, data: bytes):
    # The body is built here: the test client would spool a large one to a file it never closes.
    boundary = "tessera-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{client.csrf()}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="document"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.client.post(
        f"/o/{org.slug}/ai/documents", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_text_document_summary_dates_amounts_then_tasks_into_a_project(client, ctx):
    _owner, org, project = _setup(client)
    assert client.get(f"/o/{org.slug}/ai/documents").status_code == 200
    before = _balance(org)
    answer = _upload(client, org, "agreement.txt", MEMO.encode())
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    report = db.session.scalar(select(AiReport).where(AiReport.kind == "document"))
    assert answer.headers["Location"].endswith(f"/ai/documents/{report.id}")
    assert report.narrative.startswith("Supply agreement with Mutare Mills.")
    assert [d["date"] for d in report.details["key_dates"]] == ["2027-01-15", "2027-02-03"]
    assert [a["amount"] for a in report.details["amounts"]] == ["USD 2,500.00"]
    assert [t["title"] for t in report.details["tasks"]] == [
        "Sign the agreement",
        "Pay the deposit",
        "Book the delivery truck",
    ]
    [log] = db.session.scalars(select(AiUsageLog).where(AiUsageLog.service == "DOCUMENT_ANALYSIS")).all()
    assert log.success and _balance(org) == before - log.credits_used == before - report.credits_used
    page = client.get(f"/o/{org.slug}/ai/documents/{report.id}").get_data(as_text=True)
    assert "Written by AI" in page and "2027-02-03" in page and "Create tasks from this" in page

    made = client.post(f"/o/{org.slug}/ai/documents/{report.id}/tasks", {"project_id": str(project.id)})
    assert made.status_code == 303
    proposal = db.session.scalar(select(AiTaskProposal).where(AiTaskProposal.source_report_id == report.id))
    assert made.headers["Location"].endswith(f"/ai/proposals/{proposal.id}")
    assert proposal.project_id == project.id and len(proposal.tasks) == 3
    assert _balance(org) == before - log.credits_used  # the proposal from a document asks the AI nothing
    accepted = client.post(
        f"/o/{org.slug}/ai/proposals/{proposal.id}/accept",
        {"keep_0": "1", "title_0": "Sign the agreement", "keep_2": "1", "title_2": "Book the delivery truck"},
    )
    assert accepted.status_code == 303
    db.session.expire_all()
    assert sorted(t.title for t in project.tasks) == ["Book the delivery truck", "Sign the agreement"]

    # another organization's project is refused on the form; another organization's report is 404
    outsider = make_user()
    other_org = make_org(outsider)
    foreign = projects.create_project(other_org, outsider, "Theirs")
    db.session.commit()
    refused = client.post(f"/o/{org.slug}/ai/documents/{report.id}/tasks", {"project_id": str(foreign.id)})
    assert refused.status_code == 422 and "Choose one of your projects" in refused.get_data(as_text=True)


def test_pdf_document_and_hostile_files(client, ctx):
    _owner, org, _project = _setup(client)
    ok = _upload(client, org, "agreement.pdf", _pdf(MEMO))
    assert ok.status_code == 303, ok.get_data(as_text=True)[:2000]
    report = db.session.scalar(select(AiReport).where(AiReport.kind == "document"))
    assert "2027-01-15" in [d["date"] for d in report.details["key_dates"]]

    before = _balance(org)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_pdf(MEMO))))
    writer.encrypt("open sesame", algorithm="AES-256")
    locked = io.BytesIO()
    writer.write(locked)
    cases = [
        ("locked.pdf", locked.getvalue(), "password-protected"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%garbage", "damaged"),
        ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20, "not text Tessera can read"),
        ("latin1.txt", "Caf\xe9 cr\xe8me, d\xe9j\xe0 vu".encode("latin-1") * 3, "not text Tessera can read"),
        ("empty.txt", b"", "The file is empty"),
        ("scan.pdf", _pdf(""), "no text"),
    ]
    for name, data, message in cases:
        refused = _upload(client, org, name, data)
        text = refused.get_data(as_text=True)
        assert refused.status_code == 422, (name, text[:500])
        assert message in text, (name, text[:3000])
    assert _balance(org) == before  # nothing was asked, nothing charged
    assert db.session.scalar(select(func.count(AiReport.id))) == 1


def test_huge_files_are_cut_with_a_note(client, ctx):
    _owner, org, _project = _setup(client)
    long_text = MEMO + ("Filler sentence about nothing in particular. " * 8000)  # ~360,000 characters
    answer = _upload(client, org, "long.txt", long_text.encode())
    assert answer.status_code == 303
    report = db.session.scalar(select(AiReport).order_by(AiReport.id.desc()))
    assert report.figures["characters"] == 20_000
    assert any("only its first 20,000 characters" in note for note in report.figures["notes"])
    assert "only its first 20,000 characters" in client.get(answer.headers["Location"]).get_data(as_text=True)

    huge = b"A line of text.\n" * (11 * 1024 * 1024 // 16)  # 11 MB, past the 10 MB read limit
    cut = _upload(client, org, "huge.log", huge)
    assert cut.status_code == 303
    report = db.session.scalar(select(AiReport).order_by(AiReport.id.desc()))
    assert any("larger than 10 MB" in note for note in report.figures["notes"])
    too_big_pdf = _upload(client, org, "huge.pdf", b"%PDF-1.7\n" + b"0" * (11 * 1024 * 1024))
    assert too_big_pdf.status_code == 422 and "larger than 10 MB" in too_big_pdf.get_data(as_text=True)


def test_failed_or_malformed_answers_charge_nothing(client, ctx):
    _owner, org, _project = _setup(client)
    before = _balance(org)
    for marker in ("[sandbox:fail]", "[sandbox:badjson]", "[sandbox:wrongshape]"):
        answer = _upload(client, org, "memo.txt", f"A short memo. {marker}".encode())
        text = answer.get_data(as_text=True)
        assert answer.status_code == 422 and ("nothing was charged" in text or "were refunded" in text), text[:800]
    assert _balance(org) == before
    logs = db.session.scalars(select(AiUsageLog).where(AiUsageLog.service == "DOCUMENT_ANALYSIS")).all()
    assert len(logs) == 3 and all(not log.success and log.credits_used == 0 for log in logs)
    assert db.session.scalar(select(func.count(AiReport.id))) == 0


def test_roles_and_tenancy(client, make_client, ctx):
    _owner, org, _project = _setup(client)
    _upload(client, org, "agreement.txt", MEMO.encode())
    report = db.session.scalar(select(AiReport))
    billing = make_user()
    add_member(org, billing, "BILLING")
    outsider = make_user()
    other_org = make_org(outsider)
    db.session.commit()
    as_billing = make_client()
    as_billing.login(billing.email)
    assert as_billing.get(f"/o/{org.slug}/ai/documents").status_code == 403
    as_outsider = make_client()
    as_outsider.login(outsider.email)
    assert as_outsider.get(f"/o/{org.slug}/ai/documents/{report.id}").status_code == 404
    assert as_outsider.get(f"/o/{other_org.slug}/ai/documents/{report.id}").status_code == 404


def test_drive_file_already_synced(client, ctx, run_jobs, live_server, sandbox_url, sandbox_db):
    from tests.integrations.helpers import connect, sandbox
    from webapp.integrations.models import DriveFile

    _owner, org, _project = _setup(client)
    conn = connect(client, org, "google_drive", choice="ana@drive.example")
    sandbox(
        sandbox_url,
        "google_drive",
        "/_control/files",
        json={"action": "add", "name": "Kick-off.pdf", "mime_type": "application/pdf", "content": MEMO},
    )
    synced = client.post(f"/o/{org.slug}/integrations/connections/{conn.id}/drive-sync", {"sync_type": "full"})
    assert synced.status_code == 303
    run_jobs()
    drive_file = db.session.scalar(select(DriveFile).where(DriveFile.file_name == "Kick-off.pdf"))
    page = client.get(f"/o/{org.slug}/ai/documents").get_data(as_text=True)
    assert "Kick-off.pdf" in page
    answer = client.post(f"/o/{org.slug}/ai/documents", {"drive_file_id": str(drive_file.id)})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    report = db.session.scalar(select(AiReport).order_by(AiReport.id.desc()))
    assert report.title == "Kick-off.pdf" and report.details["source"] == "drive"
    assert [a["amount"] for a in report.details["amounts"]] == ["USD 2,500.00"]
    # another organization's Drive file id is refused
    outsider = make_user()
    other_org = make_org(outsider)
    foreign = DriveFile(
        organization_id=other_org.id,
        connection_id=conn.id,
        drive_file_id="x-foreign",
        file_name="Theirs.txt",
        mime_type="text/plain",
    )
    db.session.add(foreign)
    db.session.commit()
    refused = client.post(f"/o/{org.slug}/ai/documents", {"drive_file_id": str(foreign.id)})
    assert refused.status_code == 422 and "Choose one of your Google Drive files" in refused.get_data(as_text=True)
