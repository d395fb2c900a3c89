"""freee sandbox: accounts (consent with company selection, token, revoke) and the accounting and
invoice APIs Tessera uses, with freee's paging limits, error format and request ids.

Control endpoints for tests, the demo and the benchmark (not part of freee):
``POST /_control/faults`` {path, status, times, retry_after}, ``DELETE /_control/faults``,
``POST /_control/seed`` {name, partners, deals, invoices} → {company_id}.
"""

from __future__ import annotations

import random
import secrets
from datetime import date, timedelta

from flask import Blueprint, abort, g, jsonify, request
from sqlalchemy import func, select

from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.sandboxes._oauth import SandboxOAuth, relative_path
from webapp.integrations.sandboxes._state import (
    SandboxFreeeCompany,
    SandboxFreeeFault,
    SandboxFreeeRecord,
    SandboxFreeeToken,
)

bp = Blueprint("sandbox_freee", __name__)

ACCESS_TTL = 6 * 3600  # 6 hours
REFRESH_TTL = 90 * 24 * 3600  # 90 days
PARTNER_LIMIT, DEAL_LIMIT, INVOICE_LIMIT = 3000, 100, 100


def _extras(account: str) -> dict:
    return {"company_id": int(account), "refresh_expires_in": REFRESH_TTL}


oauth = SandboxOAuth(
    token_model=SandboxFreeeToken,
    fault_model=SandboxFreeeFault,
    client_id="tessera-freee",
    client_secret="tessera-freee-sandbox-secret",
    access_ttl=ACCESS_TTL,
    refresh_ttl=REFRESH_TTL,
    token_extras=_extras,
)

NAMES = [
    "Sakura Trading",
    "Fuji Logistics",
    "Hokkaido Dairy",
    "Osaka Print Works",
    "Nagoya Components",
    "Kobe Coffee Roasters",
    "Sendai Software",
    "Kyoto Textiles",
    "Yokohama Marine",
    "Hiroshima Foods",
    "Fukuoka Design",
    "Nara Ceramics",
]


def _freee_error(status: int, message: str, type_: str = "status"):
    response = jsonify({"status_code": status, "errors": [{"type": type_, "messages": [message]}]})
    response.status_code = status
    return response


@bp.after_request
def _request_id(response):
    response.headers["X-Freee-Request-ID"] = secrets.token_hex(12)
    return response


# ----------------------------------------------------------------------------- seeded data


def seed_company(name: str, partners: int, deals: int, invoices: int, rng: random.Random | None = None) -> int:
    rng = rng or random.Random(name)
    next_id = (db.session.scalar(select(func.max(SandboxFreeeCompany.company_id))) or 1000) + 1
    db.session.add(SandboxFreeeCompany(company_id=next_id, name=name, display_name=name))
    today = date.today()
    partner_ids = []
    rows = []
    for i in range(partners):
        updated = (today - timedelta(days=rng.randint(0, 400))).isoformat()
        base = NAMES[i % len(NAMES)]
        body = {
            "company_id": next_id,
            "code": f"P{i + 1:05d}",
            "name": f"{base} {i + 1}" if partners > len(NAMES) else base,
            "email": f"billing{i + 1}@{base.split()[0].lower()}.example.jp",
            "update_date": updated,
            "available": True,
        }
        rows.append(
            SandboxFreeeRecord(kind="partner", company_id=next_id, code=body["code"], updated=updated, body=body)
        )
    db.session.add_all(rows)
    db.session.flush()
    partner_ids = [row.id for row in rows]
    for row in rows:
        row.body = {**row.body, "id": row.id}
    for kind, count in (("deal", deals), ("invoice", invoices)):
        batch = []
        for i in range(count):
            day = (today - timedelta(days=rng.randint(0, 700))).isoformat()
            partner = rng.choice(partner_ids) if partner_ids else None
            amount = rng.randint(10, 500) * 1000
            if kind == "deal":
                body = {
                    "company_id": next_id,
                    "issue_date": day,
                    "type": rng.choice(["income", "income", "expense"]),
                    "amount": amount,
                    "partner_id": partner,
                    "ref_number": f"D-{i + 1:05d}",
                    "status": "settled",
                }
            else:
                body = {
                    "company_id": next_id,
                    "invoice_number": f"F-{i + 1:05d}",
                    "billing_date": day,
                    "total_amount": amount,
                    "partner_id": partner,
                    "payment_status": rng.choice(["unsettled", "settled"]),
                    "subject": "Monthly services",
                }
            batch.append(SandboxFreeeRecord(kind=kind, company_id=next_id, sort_date=day, updated=day, body=body))
        db.session.add_all(batch)
        db.session.flush()
        for row in batch:
            row.body = {**row.body, "id": row.id}
    db.session.commit()
    return next_id


def ensure_seeded() -> None:
    if db.session.scalar(select(func.count()).select_from(SandboxFreeeCompany)):
        return
    seed_company("Tessera Demo KK", 30, 40, 15)
    seed_company("Kyoto Trading GK", 12, 10, 5)


# ----------------------------------------------------------------------------- accounts


@bp.route("/public_api/authorize", methods=["GET", "POST"])
def authorize():
    ensure_seeded()
    if request.method == "POST":
        company = request.form.get("company_id", type=int)
        known = company and db.session.scalar(
            select(SandboxFreeeCompany.id).where(SandboxFreeeCompany.company_id == company)
        )
        return oauth.answer_consent(str(company) if known else None)
    companies = list(db.session.scalars(select(SandboxFreeeCompany).order_by(SandboxFreeeCompany.company_id)))
    return oauth.render_consent("integrations/sandbox_consent.html", provider="freee", companies=companies)


@bp.post("/public_api/token")
def token():
    return oauth.token_endpoint()


@bp.post("/public_api/revoke")
def revoke():
    return oauth.revoke_endpoint()


# ----------------------------------------------------------------------------- API


@bp.before_request
def _authenticate():
    path = request.path
    if "/public_api/" in path or "/_control/" in path:
        return None
    fault = oauth.take_fault(relative_path())
    if fault:
        return oauth.fault_response(*fault)
    row = oauth.bearer()
    if row is None:
        return _freee_error(401, "The access token is invalid or has expired.")
    g.sandbox_company = int(row.account)
    return None


def _company() -> int:
    raw = request.args.get("company_id") or (request.get_json(silent=True) or {}).get("company_id")
    try:
        company = int(raw if raw is not None else "")
    except (TypeError, ValueError):
        abort(_freee_error(400, "company_id is required.", "validation"))
    if company != g.sandbox_company:
        abort(_freee_error(403, "You are not allowed to access this company.", "status"))
    return company


def _page(limit_max: int, default: int):
    try:
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", default))
    except ValueError:
        abort(_freee_error(400, "offset and limit must be integers.", "validation"))
    if offset < 0 or limit < 1 or limit > limit_max:
        abort(_freee_error(400, f"limit must be between 1 and {limit_max}.", "validation"))
    return offset, limit


def _list(kind: str, key: str, limit_max: int, default: int, filters):
    company = _company()
    offset, limit = _page(limit_max, default)
    stmt = select(SandboxFreeeRecord).where(SandboxFreeeRecord.kind == kind, SandboxFreeeRecord.company_id == company)
    for condition in filters:
        stmt = stmt.where(condition)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(SandboxFreeeRecord.id).offset(offset).limit(limit))
    return jsonify({key: [row.body for row in rows], "meta": {"total_count": total}})


@bp.get("/api/1/users/me")
def users_me():
    companies = db.session.scalars(
        select(SandboxFreeeCompany).where(SandboxFreeeCompany.company_id == g.sandbox_company)
    )
    return jsonify(
        {
            "user": {
                "id": 1,
                "email": "accountant@example.jp",
                "display_name": "Sandbox Accountant",
                "companies": [{"id": c.company_id, "display_name": c.display_name, "role": "admin"} for c in companies],
            }
        }
    )


@bp.get("/api/1/companies/<int:company_id>")
def company(company_id):
    if company_id != g.sandbox_company:
        return _freee_error(403, "You are not allowed to access this company.")
    row = db.session.scalar(select(SandboxFreeeCompany).where(SandboxFreeeCompany.company_id == company_id))
    if row is None:
        return _freee_error(404, "Company not found.")
    return jsonify({"company": {"id": row.company_id, "name": row.name, "display_name": row.display_name}})


@bp.get("/api/1/partners")
def partners():
    filters = []
    if request.args.get("start_update_date"):
        filters.append(SandboxFreeeRecord.updated >= request.args["start_update_date"])
    if request.args.get("end_update_date"):
        filters.append(SandboxFreeeRecord.updated <= request.args["end_update_date"])
    return _list("partner", "partners", PARTNER_LIMIT, 50, filters)


@bp.get("/api/1/deals")
def deals():
    filters = []
    if request.args.get("start_issue_date"):
        filters.append(SandboxFreeeRecord.sort_date >= request.args["start_issue_date"])
    if request.args.get("end_issue_date"):
        filters.append(SandboxFreeeRecord.sort_date <= request.args["end_issue_date"])
    return _list("deal", "deals", DEAL_LIMIT, 20, filters)


@bp.get("/iv/invoices")
def invoices():
    start, end = request.args.get("billing_date_start"), request.args.get("billing_date_end")
    filters = []
    if start:
        filters.append(SandboxFreeeRecord.sort_date >= start)
    if end:
        filters.append(SandboxFreeeRecord.sort_date <= end)
    if start and end and (date.fromisoformat(end) - date.fromisoformat(start)).days > 366:
        return _freee_error(400, "The billing date range must be within one year.", "validation")
    return _list("invoice", "invoices", INVOICE_LIMIT, 20, filters)


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(_freee_error(400, "The request body must be JSON.", "validation"))
    return body


@bp.post("/api/1/partners")
def create_partner():
    body = _body()
    company_id = _company()
    name = (body.get("name") or "").strip()
    if not name:
        return _freee_error(400, "name is required.", "validation")
    code = body.get("code")
    if code and db.session.scalar(
        select(SandboxFreeeRecord.id).where(
            SandboxFreeeRecord.kind == "partner",
            SandboxFreeeRecord.company_id == company_id,
            SandboxFreeeRecord.code == code,
        )
    ):
        return _freee_error(400, f"The code {code} is already used by another partner.", "validation")
    today = utcnow().date().isoformat()
    row = SandboxFreeeRecord(kind="partner", company_id=company_id, code=code, updated=today, body={})
    db.session.add(row)
    db.session.flush()
    row.body = {
        "id": row.id,
        "company_id": company_id,
        "code": code,
        "name": name,
        "email": body.get("email"),
        "address_attributes": body.get("address_attributes") or {},
        "update_date": today,
        "available": True,
    }
    db.session.commit()
    return jsonify({"partner": row.body}), 201


def _partner_known(company_id: int, partner_id) -> bool:
    try:
        partner_id = int(partner_id)
    except (TypeError, ValueError):
        return False
    return bool(
        db.session.scalar(
            select(SandboxFreeeRecord.id).where(
                SandboxFreeeRecord.id == partner_id,
                SandboxFreeeRecord.kind == "partner",
                SandboxFreeeRecord.company_id == company_id,
            )
        )
    )


def _missing(body: dict, *names: str) -> list[str]:
    return [name for name in names if body.get(name) in (None, "", [])]


@bp.post("/api/1/deals")
def create_deal():
    body = _body()
    company_id = _company()
    missing = _missing(body, "issue_date", "type", "details")
    if missing:
        return _freee_error(400, f"{', '.join(missing)} is required.", "validation")
    if body["type"] not in ("income", "expense"):
        return _freee_error(400, "type must be income or expense.", "validation")
    details = body["details"]
    if not isinstance(details, list) or any(
        not isinstance(d, dict) or _missing(d, "tax_code", "account_item_id", "amount") for d in details
    ):
        return _freee_error(400, "details need tax_code, account_item_id and amount.", "validation")
    if body.get("partner_id") is not None and not _partner_known(company_id, body["partner_id"]):
        return _freee_error(400, "partner_id does not exist in this company.", "validation")
    amount = sum(int(d["amount"]) for d in details)
    row = SandboxFreeeRecord(kind="deal", company_id=company_id, sort_date=body["issue_date"], body={})
    db.session.add(row)
    db.session.flush()
    row.body = {
        "id": row.id,
        "company_id": company_id,
        "issue_date": body["issue_date"],
        "due_date": body.get("due_date"),
        "type": body["type"],
        "amount": amount,
        "partner_id": body.get("partner_id"),
        "ref_number": body.get("ref_number"),
        "details": details,
        "status": "unsettled",
    }
    db.session.commit()
    return jsonify({"deal": row.body}), 201


@bp.post("/iv/invoices")
def create_invoice():
    body = _body()
    company_id = _company()
    missing = _missing(body, "billing_date", "payment_date", "partner_id", "lines")
    if missing:
        return _freee_error(400, f"{', '.join(missing)} is required.", "validation")
    if not _partner_known(company_id, body["partner_id"]):
        return _freee_error(400, "partner_id does not exist in this company.", "validation")
    lines = body["lines"]
    if not isinstance(lines, list) or any(
        not isinstance(x, dict) or _missing(x, "description", "unit_price") for x in lines
    ):
        return _freee_error(400, "Every line needs a description and a unit_price.", "validation")
    subtotal = sum(int(line["unit_price"]) * int(line.get("quantity") or 1) for line in lines)
    tax = int(body.get("total_tax_amount") or 0)
    row = SandboxFreeeRecord(kind="invoice", company_id=company_id, sort_date=body["billing_date"], body={})
    db.session.add(row)
    db.session.flush()
    row.body = {
        "id": row.id,
        "company_id": company_id,
        "invoice_number": body.get("invoice_number"),
        "billing_date": body["billing_date"],
        "payment_date": body["payment_date"],
        "amount_excluding_tax": subtotal,
        "amount_tax": tax,
        "total_amount": subtotal + tax,
        "tax_entry_method": body.get("tax_entry_method", "out"),
        "partner_id": int(body["partner_id"]),
        "payment_status": "unsettled",
        "subject": body.get("subject", ""),
        "lines": lines,
    }
    db.session.commit()
    return jsonify({"invoice": row.body}), 201


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


@bp.post("/_control/seed")
def control_seed():
    data = request.get_json(silent=True) or {}
    ensure_seeded()
    company_id = seed_company(
        str(data.get("name") or "Benchmark KK"),
        int(data.get("partners", 10)),
        int(data.get("deals", 10)),
        int(data.get("invoices", 0)),
    )
    return jsonify({"company_id": company_id}), 201
