"""The JSON API, /api/v1/: Bearer key auth, scopes, per-key hourly limit, plan allowance, stable errors."""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime

from flask import g, jsonify, make_response, render_template, request
from sqlalchemy import select

from webapp.api import public_bp
from webapp.api.openapi import INVOICE_STATUSES, SERVICE_STATUSES, spec
from webapp.api.ratelimit import hit
from webapp.api.services import authenticate
from webapp.core.boundary import body_limit
from webapp.core.errors import DomainError
from webapp.core.models import utcnow
from webapp.core.parsing import BIGINT_MAX, parse_int
from webapp.core.transaction import perform
from webapp.extensions import db

MAX_BODY = 5 * 1024 * 1024
CURSOR = re.compile(r"[0-9]{1,19}")
PAGE_DEFAULT, PAGE_MAX = 50, 200


def error(status: int, code: str, message: str, details=None, headers=None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    for k, v in (headers or {}).items():
        response.headers[k] = str(v)
    return response


class ApiFailure(Exception):
    def __init__(self, status, code, message, details=None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


@public_bp.errorhandler(ApiFailure)
@public_bp.errorhandler(DomainError)
def _api_failure(failure):
    response = error(failure.status, failure.code, failure.message, failure.details)
    for k, v in g.get("ratelimit_headers", {}).items():
        response.headers[k] = str(v)
    return response


def _seconds_to_month_end(now: datetime) -> int:
    nxt = (now.replace(day=28) + (date(2000, 1, 31) - date(2000, 1, 3))).replace(day=1)
    nxt = nxt.replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((nxt - now).total_seconds()))


def endpoint(scope: str):
    """Authenticate the Bearer key, check ``scope``, count the call; the view gets ``key``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(**kwargs):
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer ") or not header[7:].strip():
                return error(
                    401,
                    "unauthenticated",
                    "Send an API key: Authorization: Bearer <key>.",
                    headers={"WWW-Authenticate": 'Bearer realm="tessera"'},
                )
            key = authenticate(header[7:].strip())
            if key is None:
                return error(
                    401,
                    "invalid_api_key",
                    "That API key is not valid or was revoked.",
                    headers={"WWW-Authenticate": 'Bearer realm="tessera", error="invalid_token"'},
                )
            now = utcnow()
            if key.expires_at is not None and key.expires_at <= now:
                return error(
                    401,
                    "api_key_expired",
                    "That API key has expired. Create a new one.",
                    headers={"WWW-Authenticate": 'Bearer realm="tessera", error="invalid_token"'},
                )
            if key.organization_suspended:
                return error(
                    403,
                    "organization_suspended",
                    "This organization is suspended; its API keys are refused. Contact support.",
                )
            if scope not in key.scopes:
                return error(
                    403,
                    "insufficient_scope",
                    f"This key lacks the {scope} scope.",
                    {"required_scope": scope, "key_scopes": sorted(key.scopes)},
                )
            decision = hit(key.id, key.organization_id, key.rate_limit, key.api_calls_allowed)
            headers = {
                "RateLimit-Limit": decision.limit,
                "RateLimit-Remaining": decision.remaining,
                "RateLimit-Reset": decision.reset,
            }
            g.ratelimit_headers = headers
            if decision.refused == "rate_limited":
                return error(
                    429,
                    "rate_limited",
                    f"This key may make {key.rate_limit:,} requests per hour.",
                    {"limit": key.rate_limit, "reset_seconds": decision.reset},
                    headers={**headers, "Retry-After": decision.reset},
                )
            if decision.refused == "plan_limit_exceeded":
                wait = _seconds_to_month_end(now)
                slug = _org_slug(key.organization_id)
                return error(
                    429,
                    "plan_limit_exceeded",
                    f"Your plan allows {key.api_calls_allowed:,} API calls per month. "
                    f"Upgrade at /o/{slug}/subscription to make more.",
                    {"limit": "api_calls", "allowed": key.api_calls_allowed, "upgrade_url": f"/o/{slug}/subscription"},
                    headers={**headers, "Retry-After": wait},
                )
            g.api_key = key
            response = make_response(view(key=key, **kwargs))
            for k, v in headers.items():
                response.headers[k] = str(v)
            return response

        wrapped.__dict__["api_scope"] = scope  # the scope the view requires, kept on the view function
        return wrapped

    return decorator


def _org_slug(org_id: int) -> str:
    from webapp.orgs.models import Organization

    return db.session.scalar(select(Organization.slug).where(Organization.id == org_id)) or ""


def _iso(value):
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _limit() -> int:
    try:
        return parse_int(request.args.get("limit", str(PAGE_DEFAULT)), minimum=1, maximum=PAGE_MAX)
    except ValueError:
        raise ApiFailure(
            422, "invalid_parameter", f"limit is a whole number from 1 to {PAGE_MAX}.", {"param": "limit"}
        ) from None


def _cursor() -> int | None:
    """Ids below the cursor: up to 19 ASCII digits (a value past BIGINT's maximum reads as the maximum,
    which every id is below); anything else, the empty string included, is refused."""
    raw = request.args.get("cursor")
    if raw is None:
        return None
    if not CURSOR.fullmatch(raw):
        raise ApiFailure(422, "invalid_cursor", "Pass back the next_cursor of the previous page.", {"param": "cursor"})
    return min(int(raw), BIGINT_MAX)


def _status_filter(allowed: tuple[str, ...]) -> str | None:
    """``?status=`` exactly as the document's enum spells it; anything else is refused, not ignored."""
    status = request.args.get("status")
    if status is None:
        return None
    if status not in allowed:
        raise ApiFailure(
            422, "invalid_parameter", f"status is one of {', '.join(allowed)}.", {"param": "status", "allowed": allowed}
        )
    return status


def _page(stmt, id_column, serialize):
    limit, cursor = _limit(), _cursor()
    if cursor is not None:
        stmt = stmt.where(id_column < cursor)
    rows = list(db.session.scalars(stmt.order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify({"data": [serialize(r) for r in rows], "next_cursor": str(rows[-1].id) if more else None})


# ---------------------------------------------------------------- usage events


@public_bp.post("/v1/usage-events")
@body_limit(MAX_BODY)
@endpoint("usage:write")
def post_usage_events(key):
    from webapp.usage.services import MAX_BATCH, ingest

    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiFailure(422, "invalid_body", 'Send one event object, or {"events": [...]} with up to 1,000 events.')
    single = "events" not in body
    if not single and set(body) != {"events"}:
        raise ApiFailure(422, "invalid_body", 'A batch is {"events": [...]} and nothing else.')
    events = [body] if single else body["events"]
    if not isinstance(events, list):
        raise ApiFailure(422, "invalid_body", "events is a list of event objects.")
    if not events:
        raise ApiFailure(422, "empty_batch", "The batch has no events.")
    if len(events) > MAX_BATCH:
        raise ApiFailure(
            413,
            "batch_too_large",
            f"A batch holds at most {MAX_BATCH:,} events.",
            {"max_events": MAX_BATCH, "received": len(events)},
        )
    if key.account_suspended:
        raise ApiFailure(
            409,
            "account_suspended",
            "The billing account is suspended for non-payment; pay the overdue invoices first.",
        )

    def answer(result):
        if single and result["rejected"]:
            raise ApiFailure(
                422, "validation_failed", result["rejected"][0]["message"], {"rejected": result["rejected"]}
            )
        result["counts"] = {k: len(result[k]) for k in ("accepted", "duplicate", "rejected")}
        return jsonify(result)

    return perform(lambda: ingest(key.organization_id, key.id, events), then=answer)


@public_bp.get("/v1/usage")
@endpoint("usage:read")
def get_usage(key):
    from webapp.usage.api import usage_aggregates

    return jsonify({"data": usage_aggregates(key.organization_id, request.args)})


# ---------------------------------------------------------------- services and invoices (billing's models)


def _service_json(s):
    return {
        "id": s.id,
        "type": s.type,
        "name": s.name,
        "status": s.status,
        "hardware_serial": s.hardware_serial,
        "monthly_fee": s.monthly_fee,
        "currency": s.currency,
        "activated_at": _iso(s.activated_at),
        "suspended_at": _iso(s.suspended_at),
        "cancelled_at": _iso(s.cancelled_at),
    }


@public_bp.get("/v1/services")
@endpoint("services:read")
def list_services(key):
    from webapp.billing.models import Service

    stmt = select(Service).where(Service.organization_id == key.organization_id)
    status = _status_filter(SERVICE_STATUSES)
    if status:
        stmt = stmt.where(Service.status == status)
    return _page(stmt, Service.id, _service_json)


def _invoice_json(inv, lines=False):
    data = {
        "id": inv.id,
        "number": inv.number,
        "status": inv.status,
        "currency": inv.currency,
        "period_start": _iso(inv.period_start),
        "period_end": _iso(inv.period_end),
        "subtotal": inv.subtotal,
        "tax": inv.tax,
        "total": inv.total,
        "amount_paid": inv.amount_paid,
        "amount_due": inv.amount_due,
        "subscription_id": inv.subscription_id,
        "issued_at": _iso(inv.issued_at),
        "due_at": _iso(inv.due_at),
        "paid_at": _iso(inv.paid_at),
    }
    if lines:
        data["lines"] = [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "total": line.total,
                "metric": line.metric,
                "service_id": line.service_id,
            }
            for line in inv.lines
        ]
    return data


def _visible_invoices(org_id):
    from webapp.billing.models import Invoice

    return select(Invoice).where(Invoice.organization_id == org_id, Invoice.finalized_at.is_not(None))


@public_bp.get("/v1/invoices")
@endpoint("invoices:read")
def list_invoices(key):
    from webapp.billing.models import Invoice

    stmt = _visible_invoices(key.organization_id)
    status = _status_filter(INVOICE_STATUSES)
    if status:
        stmt = stmt.where(Invoice.status == status)
    return _page(stmt, Invoice.id, _invoice_json)


@public_bp.get("/v1/invoices/<int:invoice_id>")
@endpoint("invoices:read")
def get_invoice(key, invoice_id: int):
    from webapp.billing.models import Invoice

    invoice = db.session.scalar(_visible_invoices(key.organization_id).where(Invoice.id == invoice_id))
    if invoice is None:
        raise ApiFailure(404, "not_found", "There is no invoice with that id.", {"invoice_id": invoice_id})
    return jsonify(_invoice_json(invoice, lines=True))


# ---------------------------------------------------------------- the description


@public_bp.get("/v1/openapi.json")
def openapi():
    return jsonify(spec())


@public_bp.get("/docs")
def docs():
    from webapp.developers.catalog import CATALOG

    return render_template("api/docs.html", spec=spec(), catalog=CATALOG)
