"""The JSON API, /api/v1/: Bearer key auth, scopes, per-key hourly limit, plan allowance, stable errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from flask import g, jsonify, make_response, render_template, request
from pydantic import BaseModel
from sqlalchemy import select

from webapp.api import public_bp
from webapp.api.openapi import spec
from webapp.api.ratelimit import hit
from webapp.api.schemas import (
    Invoice,
    InvoiceList,
    InvoiceListParams,
    InvoiceParams,
    InvoiceSummary,
    ServiceList,
    ServiceListParams,
)
from webapp.api.services import authenticate
from webapp.core.api_schemas import Error, Page, answer_data
from webapp.core.boundary import body_limit
from webapp.core.contract import ApiFailure, Operation, declare, flask_rule, validate
from webapp.core.errors import DomainError
from webapp.core.models import utcnow
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.usage.schemas import IngestResult, UsageEvent, UsageEventsBody, UsageList, UsageParams

MAX_BODY = 5 * 1024 * 1024


def error(status: int, code: str, message: str, details=None, headers=None):
    response = jsonify(answer_data(Error, {"error": {"code": code, "message": message, "details": details or {}}}))
    response.status_code = status
    for k, v in (headers or {}).items():
        response.headers[k] = str(v)
    return response


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


def operation(method: str, path: str, *, max_body: int | None = None, **declared):
    """Declare the operation (``webapp.core.contract.Operation``: what the document says of it) and route
    ``view`` to it: the key is checked, then the parameters and the body go through the declared models,
    and the view gets ``key`` and ``params`` / ``body`` already valid."""
    op = declare(Operation(method=method, path=path, **declared))

    def decorator(view):
        @functools.wraps(view)
        def checked(key, **path_args):
            given = {}
            if op.params is not None:
                given["params"] = validate(op.params, {**request.args.to_dict(flat=True), **path_args})
            if op.body is not None:
                given["body"] = validate(op.body, request.get_json(silent=True))
            return view(key, **given)

        wrapped = endpoint(op.scope)(checked)
        if max_body is not None:
            wrapped = body_limit(max_body)(wrapped)
        public_bp.add_url_rule("/v1" + flask_rule(op), view_func=wrapped, methods=[method.upper()])
        return view

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


def _page(stmt, id_column, answer: type[BaseModel], page: Page, item: Callable[[Any], Any] = lambda row: row):
    """One cursor page of ``stmt``'s rows as ``answer`` (a ``page_of`` model); ``item`` turns a row into
    what its item model reads (the row itself by default)."""
    limit, cursor = page.limit, page.below_id
    if cursor is not None:
        stmt = stmt.where(id_column < cursor)
    rows = list(db.session.scalars(stmt.order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    page_value = {"data": [item(r) for r in rows], "next_cursor": str(rows[-1].id) if more else None}
    return jsonify(answer_data(answer, page_value))


# ---------------------------------------------------------------- usage events


@operation(
    "post",
    "/usage-events",
    max_body=MAX_BODY,
    operation_id="createUsageEvents",
    summary="Send usage events",
    description=(
        'One event, or a batch of up to 1,000 as {"events": [...]}. Idempotent by event_id: an id '
        "already stored is reported as duplicate and never counted twice, also when the same batch "
        "arrives twice at once. Invalid events of a batch are listed under rejected with a code; the "
        "rest are stored. A single invalid event answers 422 validation_failed."
    ),
    scope="usage:write",
    body=UsageEventsBody,
    response=IngestResult,
    response_description="What was stored, duplicate and rejected.",
    statuses=(409,),
    components=(UsageEvent,),
)
def post_usage_events(key, body: UsageEventsBody):
    from webapp.usage.services import ingest

    if key.account_suspended:
        raise ApiFailure(
            409,
            "account_suspended",
            "The billing account is suspended for non-payment; pay the overdue invoices first.",
        )

    def answer(result):
        if body.single and result["rejected"]:
            raise ApiFailure(
                422, "validation_failed", result["rejected"][0]["message"], {"rejected": result["rejected"]}
            )
        result["counts"] = {k: len(result[k]) for k in ("accepted", "duplicate", "rejected")}
        return jsonify(answer_data(IngestResult, result))

    return perform(lambda: ingest(key.organization_id, key.id, body.events), then=answer)


@operation(
    "get",
    "/usage",
    operation_id="getUsage",
    summary="Usage aggregates by metric and billing period",
    description=(
        "Billing periods are calendar months (UTC). Open periods are computed live. "
        "to may not be before from, and one request covers at most 24 months "
        "(422 invalid_parameter otherwise)."
    ),
    scope="usage:read",
    params=UsageParams,
    response=UsageList,
    response_description="Aggregates.",
)
def get_usage(key, params: UsageParams):
    from webapp.usage.api import usage_aggregates

    aggregates = usage_aggregates(key.organization_id, *params.months(), params.metric)
    return jsonify(answer_data(UsageList, {"data": aggregates}))


# ---------------------------------------------------------------- services and invoices (billing's models)


@operation(
    "get",
    "/services",
    operation_id="listServices",
    summary="List services",
    scope="services:read",
    params=ServiceListParams,
    response=ServiceList,
    response_description="Newest first.",
)
def list_services(key, params: ServiceListParams):
    from webapp.billing.models import Service

    stmt = select(Service).where(Service.organization_id == key.organization_id)
    if params.status:
        stmt = stmt.where(Service.status == params.status)
    return _page(stmt, Service.id, ServiceList, params)


def _invoice_json(inv, lines=False):
    """An invoice as the API shows it (and the webhooks' invoice events): the summary, or with its lines."""
    return answer_data(Invoice if lines else InvoiceSummary, inv)


def _visible_invoices(org_id):
    from webapp.billing.models import Invoice

    return select(Invoice).where(Invoice.organization_id == org_id, Invoice.finalized_at.is_not(None))


@operation(
    "get",
    "/invoices",
    operation_id="listInvoices",
    summary="List invoices",
    description="Finalized invoices only (drafts are not shown), newest first.",
    scope="invoices:read",
    params=InvoiceListParams,
    response=InvoiceList,
    response_description="Newest first.",
)
def list_invoices(key, params: InvoiceListParams):
    from webapp.billing.models import Invoice

    stmt = _visible_invoices(key.organization_id)
    if params.status:
        stmt = stmt.where(Invoice.status == params.status)
    return _page(stmt, Invoice.id, InvoiceList, params)


@operation(
    "get",
    "/invoices/{invoice_id}",
    operation_id="getInvoice",
    summary="One invoice with its lines",
    scope="invoices:read",
    params=InvoiceParams,
    response=Invoice,
    response_description="The invoice.",
    statuses=(404,),
)
def get_invoice(key, params: InvoiceParams):
    from webapp.billing.models import Invoice as InvoiceRow

    invoice_id = params.invoice_id
    invoice = db.session.scalar(_visible_invoices(key.organization_id).where(InvoiceRow.id == invoice_id))
    if invoice is None:
        raise ApiFailure(404, "not_found", "There is no invoice with that id.", {"invoice_id": invoice_id})
    return jsonify(answer_data(Invoice, invoice))


# ---------------------------------------------------------------- the description


@public_bp.get("/v1/openapi.json")
def openapi():
    return jsonify(spec())


@public_bp.get("/docs")
def docs():
    from webapp.developers.catalog import CATALOG

    return render_template("api/docs.html", spec=spec(), catalog=CATALOG)
