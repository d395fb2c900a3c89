"""Google Drive sandbox: OAuth consent/token/revoke and the Drive v3 endpoints Tessera uses
(``about``, ``files.list`` with ``fields`` and paging, ``changes.getStartPageToken``, ``changes.list``),
with Google's error format. Unlike Google, refresh tokens here rotate and are single-use, so the
framework's rotation path is exercised for this provider too.

Control endpoints (not part of Google): ``POST /_control/faults`` {path, status, times, retry_after},
``DELETE /_control/faults``, ``POST /_control/files`` {account, action: add|update|remove, file_id, name,
content}. ``files.get`` with ``alt=media`` answers a file's content (``content`` when given, else a memo).
"""

from __future__ import annotations

import hashlib
import random
import secrets
from datetime import timedelta

from flask import Blueprint, abort, g, jsonify, request
from sqlalchemy import func, select

from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.sandboxes._oauth import SandboxOAuth, relative_path
from webapp.integrations.sandboxes._state import (
    SandboxGoogleDriveFault,
    SandboxGoogleDriveFile,
    SandboxGoogleDriveToken,
)

bp = Blueprint("sandbox_google_drive", __name__)

ACCOUNTS = {"ana@drive.example": "Ana Moyo", "kenji@drive.example": "Kenji Sato"}
QUOTA_LIMIT = 15 * 1024**3
FOLDER = "application/vnd.google-apps.folder"

oauth = SandboxOAuth(
    token_model=SandboxGoogleDriveToken,
    fault_model=SandboxGoogleDriveFault,
    client_id="tessera-google",
    client_secret="tessera-google-sandbox-secret",
    access_ttl=3599,
    refresh_ttl=180 * 24 * 3600,
)


def _google_error(status: int, message: str, reason: str, state: str):
    response = jsonify({"error": {"code": status, "message": message, "errors": [{"reason": reason}], "status": state}})
    response.status_code = status
    return response


@bp.after_request
def _request_id(response):
    response.headers["X-Goog-Request-Id"] = secrets.token_hex(10)
    return response


def _next_seq() -> int:
    return (db.session.scalar(select(func.max(SandboxGoogleDriveFile.change_seq))) or 0) + 1


def _add_file(account: str, name: str, mime: str, parent: str | None, size: int | None, when=None):
    when = when or utcnow()
    row = SandboxGoogleDriveFile(
        account=account,
        file_id=secrets.token_urlsafe(12),
        name=name,
        mime_type=mime,
        size=size,
        parent_id=parent,
        created_time=when,
        modified_time=when,
        change_seq=_next_seq(),
    )
    db.session.add(row)
    db.session.flush()
    return row


def seed_account(account: str, files: int, rng: random.Random | None = None) -> None:
    rng = rng or random.Random(account)
    now = utcnow()
    folders = [
        _add_file(account, name, FOLDER, None, None, now - timedelta(days=300))
        for name in ("Contracts", "Design", "Finance")
    ]
    kinds = [
        ("Proposal {n}.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("Budget {n}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("Storefront photo {n}.jpg", "image/jpeg"),
        ("Minutes {n}.pdf", "application/pdf"),
        ("Roadmap {n}", "application/vnd.google-apps.document"),
    ]
    for n in range(1, files + 1):
        pattern, mime = kinds[n % len(kinds)]
        folder = rng.choice(folders)
        _add_file(
            account,
            pattern.format(n=n),
            mime,
            folder.file_id,
            rng.randint(20, 9000) * 1024,
            now - timedelta(days=rng.randint(0, 250)),
        )
    db.session.commit()


def ensure_seeded() -> None:
    if db.session.scalar(select(func.count()).select_from(SandboxGoogleDriveFile)):
        return
    seed_account("ana@drive.example", 24)
    seed_account("kenji@drive.example", 8)


def _file_json(row: SandboxGoogleDriveFile) -> dict:
    body = {
        "kind": "drive#file",
        "id": row.file_id,
        "name": row.name,
        "mimeType": row.mime_type,
        "parents": [row.parent_id] if row.parent_id else [],
        "createdTime": row.created_time.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "modifiedTime": row.modified_time.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "webViewLink": f"https://drive.google.com/file/d/{row.file_id}/view",
        "trashed": False,
    }
    if row.size is not None:
        body["size"] = str(row.size)  # Google sends int64 as strings
    if row.mime_type.startswith("image/"):
        body["thumbnailLink"] = f"https://lh3.googleusercontent.com/d/{row.file_id}=s220"
    return body


def _select_fields(body: dict, fields: str | None) -> dict:
    """A small subset of Google's ``fields`` selector: ``files(id,name)`` or ``id,name``."""
    if not fields:
        return body
    inner = fields
    if "(" in fields:
        inner = fields[fields.index("(") + 1 : fields.rindex(")")]
    wanted = {f.strip() for f in inner.split(",") if f.strip()}
    return {k: v for k, v in body.items() if k in wanted} if wanted else body


# ----------------------------------------------------------------------------- OAuth


@bp.route("/o/oauth2/v2/auth", methods=["GET", "POST"])
def authorize():
    ensure_seeded()
    if request.method == "POST":
        account = request.form.get("account")
        return oauth.answer_consent(account if account in ACCOUNTS else None)
    accounts = [{"id": email, "name": name} for email, name in ACCOUNTS.items()]
    return oauth.render_consent("integrations/sandbox_consent.html", provider="google_drive", accounts=accounts)


@bp.post("/token")
def token():
    return oauth.token_endpoint()


@bp.post("/revoke")
def revoke():
    return oauth.revoke_endpoint()


# ----------------------------------------------------------------------------- Drive v3


@bp.before_request
def _authenticate():
    path = relative_path()
    if not path.startswith("/drive/"):
        return None
    fault = oauth.take_fault(path)
    if fault:
        status, retry_after = fault
        if status == 429:
            response = _google_error(429, "Rate Limit Exceeded", "rateLimitExceeded", "RESOURCE_EXHAUSTED")
        else:
            response = _google_error(status, "Backend Error", "backendError", "UNAVAILABLE")
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response
    row = oauth.bearer()
    if row is None:
        return _google_error(401, "Request had invalid authentication credentials.", "authError", "UNAUTHENTICATED")
    g.sandbox_account = row.account
    return None


def _page_size(default: int, maximum: int) -> int:
    try:
        size = int(request.args.get("pageSize", default))
    except ValueError:
        size = -1
    if size < 1 or size > maximum:
        abort(_google_error(400, f"Invalid pageSize: must be 1-{maximum}", "invalidParameter", "INVALID_ARGUMENT"))
    return size


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(token.removeprefix("o"))
    except ValueError:
        abort(_google_error(400, "Invalid pageToken", "invalidParameter", "INVALID_ARGUMENT"))


@bp.get("/drive/v3/about")
def about():
    used = db.session.scalar(
        select(func.coalesce(func.sum(SandboxGoogleDriveFile.size), 0)).where(
            SandboxGoogleDriveFile.account == g.sandbox_account, SandboxGoogleDriveFile.removed.is_(False)
        )
    )
    body = {
        "kind": "drive#about",
        "user": {
            "displayName": ACCOUNTS.get(g.sandbox_account, g.sandbox_account),
            "emailAddress": g.sandbox_account,
            "permissionId": hashlib.sha256(g.sandbox_account.encode()).hexdigest()[:20],
        },
        "storageQuota": {"limit": str(QUOTA_LIMIT), "usage": str(int(used) * 3), "usageInDrive": str(int(used))},
    }
    return jsonify(_select_fields(body, request.args.get("fields")))


@bp.get("/drive/v3/files")
def files_list():
    size = _page_size(100, 1000)
    offset = _offset(request.args.get("pageToken"))
    stmt = (
        select(SandboxGoogleDriveFile)
        .where(SandboxGoogleDriveFile.account == g.sandbox_account, SandboxGoogleDriveFile.removed.is_(False))
        .order_by(SandboxGoogleDriveFile.id)
        .offset(offset)
        .limit(size + 1)
    )
    rows = list(db.session.scalars(stmt))
    body: dict = {"kind": "drive#fileList", "files": [_file_json(r) for r in rows[:size]]}
    if len(rows) > size:
        body["nextPageToken"] = f"o{offset + size}"
    fields = request.args.get("fields")
    if fields and "files(" in fields:
        body["files"] = [_select_fields(f, fields[fields.index("files(") :]) for f in body["files"]]
    return jsonify(body)


def _content(row: SandboxGoogleDriveFile) -> tuple[bytes, str]:
    """A file's bytes: the text given through the control endpoint, else a deterministic memo built from
    its name; PDFs are real PDFs of that text; other types are opaque bytes."""
    text = row.description or (
        f"{row.name}\n\nMeeting notes. The contract starts on 2027-01-15 and the first invoice of "
        "USD 4,500.00 is due on 2027-02-01.\n- Send the signed contract\n- Book the kick-off meeting\n"
    )
    if row.mime_type == "application/pdf":
        from fpdf import FPDF

        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        for line in text.splitlines() or [""]:
            pdf.multi_cell(
                0, 6, line.encode("latin-1", "replace").decode("latin-1") or " ", new_x="LMARGIN", new_y="NEXT"
            )
        return bytes(pdf.output()), "application/pdf"
    if row.mime_type.startswith("text/") or row.mime_type.startswith("application/vnd.google-apps"):
        return text.encode(), "text/plain; charset=utf-8"
    return hashlib.sha256(row.file_id.encode()).digest() * 64 + b"\x00\xff", row.mime_type


@bp.get("/drive/v3/files/<file_id>")
def file_get(file_id: str):
    """``files.get``: the file's metadata, or with ``alt=media`` its content."""
    row = db.session.scalar(
        select(SandboxGoogleDriveFile).where(
            SandboxGoogleDriveFile.file_id == file_id,
            SandboxGoogleDriveFile.account == g.sandbox_account,
            SandboxGoogleDriveFile.removed.is_(False),
        )
    )
    if row is None:
        return _google_error(404, f"File not found: {file_id}.", "notFound", "NOT_FOUND")
    if request.args.get("alt") == "media":
        content, mime = _content(row)
        return content, 200, {"Content-Type": mime}
    return jsonify(_select_fields(_file_json(row), request.args.get("fields")))


@bp.get("/drive/v3/changes/startPageToken")
def start_page_token():
    return jsonify({"kind": "drive#startPageToken", "startPageToken": str(_next_seq())})


@bp.get("/drive/v3/changes")
def changes_list():
    token = request.args.get("pageToken")
    if not token or not token.isdigit():
        return _google_error(400, "Required parameter: pageToken", "required", "INVALID_ARGUMENT")
    size = _page_size(100, 1000)
    start = int(token)
    rows = list(
        db.session.scalars(
            select(SandboxGoogleDriveFile)
            .where(SandboxGoogleDriveFile.account == g.sandbox_account, SandboxGoogleDriveFile.change_seq >= start)
            .order_by(SandboxGoogleDriveFile.change_seq)
            .limit(size + 1)
        )
    )
    changes = []
    for row in rows[:size]:
        change = {
            "kind": "drive#change",
            "changeType": "file",
            "fileId": row.file_id,
            "removed": row.removed,
            "time": row.modified_time.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
        if not row.removed:
            change["file"] = _file_json(row)
        changes.append(change)
    body: dict = {"kind": "drive#changeList", "changes": changes}
    if len(rows) > size:
        body["nextPageToken"] = str(rows[size].change_seq)
    else:
        body["newStartPageToken"] = str(_next_seq())
    return jsonify(body)


# ----------------------------------------------------------------------------- control (sandbox only)


@bp.post("/_control/faults")
def control_fault():
    data = request.get_json(silent=True) or request.form
    oauth.add_fault(
        data.get("path", "/"),
        int(data.get("status", 500)),
        int(data.get("times", 1)),
        int(data["retry_after"]) if data.get("retry_after") not in (None, "") else None,
    )
    return jsonify({"ok": True}), 201


@bp.delete("/_control/faults")
def control_clear_faults():
    oauth.clear_faults()
    return jsonify({"ok": True})


@bp.post("/_control/files")
def control_files():
    """Change a sandbox Drive the way its owner would: add, rename (update) or remove a file."""
    ensure_seeded()
    data = request.get_json(silent=True) or {}
    account = data.get("account", "ana@drive.example")
    action = data.get("action")
    if action == "add":
        row = _add_file(account, data.get("name", "New file.txt"), data.get("mime_type", "text/plain"), None, 1024)
        row.description = data.get("content")  # the text its content is made of (files.get alt=media)
        db.session.commit()
        return jsonify({"id": row.file_id}), 201
    row = db.session.scalar(
        select(SandboxGoogleDriveFile).where(
            SandboxGoogleDriveFile.file_id == data.get("file_id"), SandboxGoogleDriveFile.account == account
        )
    )
    if row is None:
        return jsonify({"error": "no such file"}), 404
    if action == "update":
        row.name = data.get("name", row.name)
    elif action == "remove":
        row.removed = True
    else:
        return jsonify({"error": "action must be add, update or remove"}), 400
    row.modified_time = utcnow()
    row.change_seq = _next_seq()
    db.session.commit()
    return jsonify({"id": row.file_id})
