"""Google Drive sandbox: OAuth consent/token/revoke and the Drive v3 endpoints Tessera uses
(``about``, ``files.list`` with ``q``, ``fields`` and paging, ``files.get`` (metadata and
``alt=media`` content), ``files.update`` (``trashed``), ``changes.getStartPageToken``,
``changes.list``), with Google's error format. ``q`` is parsed as Google parses it: string literals in
single quotes with ``\\'`` and ``\\\\`` escapes, ``and`` / ``or`` / ``not`` and parentheses, and the
terms ``'<id>' in parents`` (``'root'`` for the top of My Drive), ``mimeType =|!= '…'``,
``name =|contains '…'`` and ``trashed = true|false``; anything else is a 400 "Invalid Value".

Unlike Google, refresh tokens here rotate and are single-use, so the
framework's rotation path is exercised for this provider too.

Control endpoints (not part of Google): ``POST /_control/faults`` {path, status, times, retry_after},
``DELETE /_control/faults``, ``POST /_control/files`` {account, action: add|update|remove, file_id, name,
mime_type, parent_id, content, is_public, can_edit, can_share}.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from datetime import timedelta

from flask import Blueprint, Response, abort, g, jsonify, request
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


def _add_file(account: str, name: str, mime: str, parent: str | None, size: int | None, when=None, **extra):
    when = when or utcnow()
    row = SandboxGoogleDriveFile(
        account=account,
        file_id=extra.pop("file_id", None) or secrets.token_urlsafe(12),
        name=name,
        mime_type=mime,
        size=size,
        parent_id=parent,
        created_time=when,
        modified_time=when,
        change_seq=_next_seq(),
        **extra,
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
            is_public=n % 4 == 0,
            can_edit=n % 3 != 0,
            can_share=n % 3 != 0,
        )
    db.session.commit()


def ensure_seeded() -> None:
    if db.session.scalar(select(func.count()).select_from(SandboxGoogleDriveFile)):
        return
    seed_account("ana@drive.example", 24)
    seed_account("kenji@drive.example", 8)


ROOT_ID = "root"


def _native(row: SandboxGoogleDriveFile) -> bool:
    return row.mime_type.startswith("application/vnd.google-apps.")


def _file_json(row: SandboxGoogleDriveFile) -> dict:
    owner = hashlib.sha256(row.account.encode()).hexdigest()[:20]
    permissions = [{"kind": "drive#permission", "id": owner, "type": "user", "role": "owner"}]
    if row.is_public:
        permissions.append({"kind": "drive#permission", "id": "anyoneWithLink", "type": "anyone", "role": "reader"})
    body = {
        "kind": "drive#file",
        "id": row.file_id,
        "name": row.name,
        "mimeType": row.mime_type,
        "parents": [row.parent_id] if row.parent_id else [ROOT_ID],
        "createdTime": row.created_time.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "modifiedTime": row.modified_time.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "webViewLink": f"https://drive.google.com/file/d/{row.file_id}/view",
        "trashed": bool(row.trashed),
        "shared": bool(row.is_public),
        "capabilities": {
            "canEdit": bool(row.can_edit),
            "canShare": bool(row.can_share),
            "canTrash": bool(row.can_edit),
            "canDownload": not _native(row) and row.mime_type != FOLDER,
        },
    }
    if row.can_share:  # Google lists permissions only to those who may share the file
        body["permissions"] = permissions
    if not _native(row):
        body["webContentLink"] = f"https://drive.google.com/uc?id={row.file_id}&export=download"
    if row.size is not None:
        body["size"] = str(row.size)  # Google sends int64 as strings
    if row.mime_type.startswith("image/"):
        body["thumbnailLink"] = f"https://lh3.googleusercontent.com/d/{row.file_id}=s220"
    return body


def _content(row: SandboxGoogleDriveFile) -> bytes:
    """A file's bytes: what the control endpoint gave (a PDF given as text becomes a real PDF of that
    text), else its name repeated to its size."""
    if row.content is not None:
        if row.mime_type == "application/pdf" and not row.content.startswith(b"%PDF"):
            return _pdf_of(row.content.decode("utf-8", "replace"))
        return row.content
    line = f"{row.name} ({row.file_id})\n".encode()
    size = row.size or len(line)
    return (line * (size // len(line) + 1))[:size]


def _pdf_of(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in text.splitlines() or [""]:
        pdf.multi_cell(0, 6, line.encode("latin-1", "replace").decode("latin-1") or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _top_fields(selector: str) -> set[str]:
    """The top-level names of a ``fields`` selector: ``id,permissions(type,role),name`` → id, permissions, name."""
    names, depth, current = set(), 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            names.add(current.strip())
            current = ""
            continue
        if depth == 0 and ch not in "()":
            current += ch
    names.add(current.strip())
    return {n.split("/")[0] for n in names if n}


def _select_fields(body: dict, fields: str | None) -> dict:
    """A small subset of Google's ``fields`` selector: ``files(id,name)`` or ``id,name``."""
    if not fields:
        return body
    inner = fields
    if fields.startswith("files(") and fields.endswith(")"):
        inner = fields[len("files(") : -1]
    wanted = _top_fields(inner)
    return {k: v for k, v in body.items() if k in wanted} if wanted else body


# ----------------------------------------------------------------------------- the q language


class _QueryError(ValueError):
    pass


def _tokens(q: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(q):
        ch = q[i]
        if ch.isspace():
            i += 1
        elif ch == "'":
            i += 1
            value = ""
            while True:
                if i >= len(q):
                    raise _QueryError("unterminated string")
                if q[i] == "\\" and i + 1 < len(q) and q[i + 1] in "'\\":
                    value += q[i + 1]
                    i += 2
                elif q[i] == "'":
                    i += 1
                    break
                else:
                    value += q[i]
                    i += 1
            out.append(("str", value))
        elif ch in "()":
            out.append((ch, ch))
            i += 1
        elif q.startswith("!=", i):
            out.append(("op", "!="))
            i += 2
        elif ch == "=":
            out.append(("op", "="))
            i += 1
        else:
            j = i
            while j < len(q) and (q[j].isalnum() or q[j] in "_."):
                j += 1
            if j == i:
                raise _QueryError(f"unexpected {ch!r}")
            out.append(("word", q[i:j]))
            i = j
    return out


def _parse_q(q: str):
    """A predicate over sandbox rows, or _QueryError."""
    tokens, pos = _tokens(q), 0

    def peek(kind=None, value=None):
        if pos >= len(tokens):
            return None
        token = tokens[pos]
        if (kind and token[0] != kind) or (value and token[1].lower() != value):
            return None
        return token

    def take(kind=None, value=None):
        nonlocal pos
        token = peek(kind, value)
        if token is None:
            raise _QueryError("unexpected end" if pos >= len(tokens) else f"unexpected {tokens[pos][1]!r}")
        pos += 1
        return token

    def term():
        if peek("word", "not"):
            take()
            inner = term()
            return lambda row: not inner(row)
        if peek("("):
            take()
            inner = expression()
            take(")")
            return inner
        if peek("str"):
            value = take("str")[1]
            take("word", "in")
            field = take("word")[1]
            if field != "parents":
                raise _QueryError(f"cannot search {field!r} with in")
            return lambda row: (row.parent_id or ROOT_ID) == value or (value == ROOT_ID and row.parent_id is None)
        field = take("word")[1]
        if field == "trashed":
            take("op", "=")
            wanted = take("word")[1].lower()
            if wanted not in ("true", "false"):
                raise _QueryError("trashed is true or false")
            return lambda row: bool(row.trashed) == (wanted == "true")
        if field in ("mimeType", "name"):
            if peek("word", "contains") and field == "name":
                take()
                needle = take("str")[1].lower()
                return lambda row: needle in row.name.lower()
            op = take("op")[1]
            value = take("str")[1]
            attr = "mime_type" if field == "mimeType" else "name"
            if op == "=":
                return lambda row: getattr(row, attr) == value
            return lambda row: getattr(row, attr) != value
        raise _QueryError(f"unknown field {field!r}")

    def conjunction():
        left = term()
        while peek("word", "and"):
            take()
            right, previous = term(), left
            left = lambda row, a=previous, b=right: a(row) and b(row)  # noqa: E731
        return left

    def expression():
        left = conjunction()
        while peek("word", "or"):
            take()
            right, previous = conjunction(), left
            left = lambda row, a=previous, b=right: a(row) or b(row)  # noqa: E731
        return left

    predicate = expression()
    if pos != len(tokens):
        raise _QueryError(f"unexpected {tokens[pos][1]!r}")
    return predicate


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
    used = (
        db.session.scalar(
            select(func.coalesce(func.sum(SandboxGoogleDriveFile.size), 0)).where(
                SandboxGoogleDriveFile.account == g.sandbox_account, SandboxGoogleDriveFile.removed.is_(False)
            )
        )
        or 0
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
    try:
        predicate = _parse_q(request.args["q"]) if request.args.get("q") else (lambda row: True)
    except _QueryError as error:
        response = jsonify(
            {
                "error": {
                    "code": 400,
                    "message": f"Invalid Value ({error})",
                    "errors": [{"reason": "invalid", "location": "q", "locationType": "parameter"}],
                    "status": "INVALID_ARGUMENT",
                }
            }
        )
        response.status_code = 400
        return response
    everything = db.session.scalars(
        select(SandboxGoogleDriveFile)
        .where(SandboxGoogleDriveFile.account == g.sandbox_account, SandboxGoogleDriveFile.removed.is_(False))
        .order_by(SandboxGoogleDriveFile.id)
    )
    rows = [row for row in everything if predicate(row)][offset : offset + size + 1]
    body: dict = {"kind": "drive#fileList", "files": [_file_json(r) for r in rows[:size]]}
    if len(rows) > size:
        body["nextPageToken"] = f"o{offset + size}"
    fields = request.args.get("fields")
    if fields and "files(" in fields:
        selector = fields[fields.index("files(") :]
        selector = selector[: _closing(selector) + 1]
        body["files"] = [_select_fields(f, selector) for f in body["files"]]
    return jsonify(body)


def _closing(selector: str) -> int:
    depth = 0
    for i, ch in enumerate(selector):
        depth += ch == "("
        depth -= ch == ")"
        if ch == ")" and depth == 0:
            return i
    return len(selector) - 1


def _not_found(file_id: str):
    response = jsonify(
        {
            "error": {
                "code": 404,
                "message": f"File not found: {file_id}.",
                "errors": [{"reason": "notFound", "location": "fileId", "locationType": "parameter"}],
                "status": "NOT_FOUND",
            }
        }
    )
    response.status_code = 404
    return response


def _own_file(file_id: str) -> SandboxGoogleDriveFile | None:
    return db.session.scalar(
        select(SandboxGoogleDriveFile).where(
            SandboxGoogleDriveFile.file_id == file_id,
            SandboxGoogleDriveFile.account == g.sandbox_account,
            SandboxGoogleDriveFile.removed.is_(False),
        )
    )


@bp.get("/drive/v3/files/<path:file_id>")
def files_get(file_id):
    row = _own_file(file_id)
    if row is None:
        return _not_found(file_id)
    if request.args.get("alt") == "media":
        if _native(row) or row.mime_type == FOLDER:
            return _google_error(
                403,
                "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
                "fileNotDownloadable",
                "PERMISSION_DENIED",
            )
        return Response(_content(row), mimetype=row.mime_type)
    return jsonify(_select_fields(_file_json(row), request.args.get("fields")))


@bp.patch("/drive/v3/files/<path:file_id>")
def files_update(file_id):
    """``files.update``: only ``trashed`` (move to or out of the trash) and ``name``."""
    row = _own_file(file_id)
    if row is None:
        return _not_found(file_id)
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not ({"trashed", "name"} & set(data)):
        return _google_error(400, "Invalid request body", "badRequest", "INVALID_ARGUMENT")
    if not row.can_edit:
        return _google_error(
            403,
            "The user does not have sufficient permissions for this file.",
            "insufficientFilePermissions",
            "PERMISSION_DENIED",
        )
    if "trashed" in data:
        row.trashed = bool(data["trashed"])
    if isinstance(data.get("name"), str) and data["name"].strip():
        row.name = data["name"].strip()[:500]
    row.modified_time = utcnow()
    row.change_seq = _next_seq()
    db.session.commit()
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
    flags = {k: bool(data[k]) for k in ("is_public", "can_edit", "can_share") if k in data}
    if action == "add":
        content = data["content"].encode() if isinstance(data.get("content"), str) else None
        mime = data.get("mime_type", "text/plain")
        size = None if mime == FOLDER else (len(content) if content is not None else 1024)
        row = _add_file(
            account,
            data.get("name", "New file.txt"),
            mime,
            data.get("parent_id"),
            size,
            file_id=data.get("file_id"),
            content=content,
            **flags,
        )
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
        if "parent_id" in data:
            row.parent_id = data["parent_id"]
        if isinstance(data.get("content"), str):
            row.content = data["content"].encode()
            row.size = len(row.content)
        for key, value in flags.items():
            setattr(row, key, value)
    elif action == "remove":
        row.removed = True
    else:
        return jsonify({"error": "action must be add, update or remove"}), 400
    row.modified_time = utcnow()
    row.change_seq = _next_seq()
    db.session.commit()
    return jsonify({"id": row.file_id})
