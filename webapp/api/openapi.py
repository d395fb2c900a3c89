"""The OpenAPI 3.1 description of /api/v1/ (served at /api/v1/openapi.json, rendered at /api/docs).

Schemas are JSON Schema 2020-12; the test suite validates real responses against them.
"""

from __future__ import annotations

import functools

from webapp.api.models import SCOPES
from webapp.developers import openapi as events_openapi

MONTH_PATTERN = "^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])$"  # what webapp.core.parsing.parse_month takes
SERVICE_STATUSES = ("ACTIVE", "SUSPENDED", "CANCELLED")
INVOICE_STATUSES = ("ISSUED", "PARTIAL", "PAID", "OVERDUE", "VOID", "REFUNDED")  # finalized ones: drafts are not shown

ERROR_CODES = {
    401: ["unauthenticated", "invalid_api_key", "api_key_expired"],
    403: ["insufficient_scope", "organization_suspended"],
    404: ["not_found"],
    409: ["account_suspended", "concurrent_update"],
    413: ["batch_too_large", "payload_too_large"],
    422: [
        "invalid_body",
        "empty_batch",
        "validation_failed",
        "invalid_parameter",
        "invalid_cursor",
        "invalid_characters",
        "json_too_deep",
        "invalid_value",
    ],
    429: ["rate_limited", "plan_limit_exceeded"],
}
EVENT_REJECTION_CODES = [
    "invalid_event",
    "unknown_field",
    "invalid_event_id",
    "invalid_event_type",
    "invalid_quantity",
    "missing_timestamp",
    "invalid_timestamp",
    "timestamp_too_old",
    "timestamp_in_future",
    "invalid_data",
    "data_too_large",
    "period_closed",
]

NULLABLE_STR = {"type": ["string", "null"]}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
RATE_HEADERS = {
    "RateLimit-Limit": {"description": "Requests this key may make per hour.", "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Requests left in this hour.", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the hourly window resets.", "schema": {"type": "integer"}},
}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _error_response(status, description):
    headers = dict(RATE_HEADERS) if status not in (401, 403) else {}  # refused before the call is counted
    if status == 429:
        headers["Retry-After"] = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
    body = {
        "description": f"{description} Codes: {', '.join(ERROR_CODES[status])}.",
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    if headers:
        body["headers"] = headers
    return body


def _errors(*statuses):
    text = {
        401: "Missing, unknown, revoked or expired API key.",
        403: "The key lacks the scope, or its organization is suspended.",
        404: "Not found (or another organization's).",
        409: "Refused in the account's current state.",
        413: "Too large.",
        422: "Invalid input.",
        429: "Hourly key limit or the plan's monthly API-call allowance reached.",
    }
    return {str(s): _error_response(s, text[s]) for s in statuses}


def _ok(schema_name, description):
    return {
        "description": description,
        "headers": RATE_HEADERS,
        "content": {"application/json": {"schema": _ref(schema_name)}},
    }


PAGINATION = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "Items per page (1 to 200, default 50).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
    {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "The next_cursor of the previous page (up to 19 digits; leave it out for the first page).",
        "schema": {"type": "string", "pattern": "^[0-9]{1,19}$"},
    },
]


def _schemas():
    event_in = {
        "type": "object",
        "required": ["event_id", "event_type", "timestamp"],
        "additionalProperties": False,
        "properties": {
            "event_id": {
                "type": "string",
                "pattern": "^[A-Za-z0-9][A-Za-z0-9._:\\-/]{0,127}$",
                "description": "Chosen by you; the same id is stored once (idempotency).",
            },
            "event_type": {
                "type": "string",
                "pattern": "^[a-z][a-z0-9_.:\\-]{0,63}$",
                "description": "The metric code, e.g. pos.transaction.",
            },
            "quantity": {"type": "integer", "minimum": 0, "maximum": 10**12, "default": 1},
            "timestamp": {
                "type": "string",
                "format": "date-time",
                "maxLength": 40,
                "description": "ISO 8601 with time zone; within the last 35 days, at most 5 minutes ahead.",
            },
            "data": {"type": "object", "description": "Optional details (at most 4 KB as JSON)."},
        },
    }
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "additionalProperties": False,
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "details"],
                    "additionalProperties": False,
                    "properties": {
                        "code": {
                            "type": "string",
                            "enum": sorted({c for codes in ERROR_CODES.values() for c in codes}),
                        },
                        "message": {"type": "string"},
                        "details": {"type": "object"},
                    },
                }
            },
        },
        "UsageEvent": event_in,
        "UsageEventBatch": {
            "type": "object",
            "required": ["events"],
            "additionalProperties": False,
            "properties": {
                "events": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1000,
                    # Any item is taken: one that is not a valid UsageEvent is listed under rejected with a code.
                    "items": {"description": "A UsageEvent; an invalid one is rejected on its own, with a code."},
                }
            },
        },
        "RejectedEvent": {
            "type": "object",
            "required": ["index", "event_id", "code", "message"],
            "additionalProperties": False,
            "properties": {
                "index": {
                    "type": ["integer", "null"],
                    "description": "Position in the batch (null for period_closed).",
                },
                "event_id": NULLABLE_STR,
                "code": {"type": "string", "enum": EVENT_REJECTION_CODES},
                "message": {"type": "string"},
            },
        },
        "IngestResult": {
            "type": "object",
            "required": ["accepted", "duplicate", "rejected", "counts"],
            "additionalProperties": False,
            "properties": {
                "accepted": {"type": "array", "items": {"type": "string"}, "description": "Stored now."},
                "duplicate": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Already stored earlier (or twice in this batch): not counted again.",
                },
                "rejected": {"type": "array", "items": _ref("RejectedEvent")},
                "counts": {
                    "type": "object",
                    "required": ["accepted", "duplicate", "rejected"],
                    "additionalProperties": False,
                    "properties": {k: {"type": "integer", "minimum": 0} for k in ("accepted", "duplicate", "rejected")},
                },
            },
        },
        "UsageAggregate": {
            "type": "object",
            "required": [
                "metric",
                "name",
                "unit",
                "aggregation",
                "period_start",
                "period_end",
                "value",
                "event_count",
                "sum",
                "max",
                "unique_count",
                "closed",
            ],
            "additionalProperties": False,
            "properties": {
                "metric": {"type": "string"},
                "name": {"type": "string"},
                "unit": {"type": "string"},
                "aggregation": {"type": "string", "enum": ["count", "sum", "max", "unique_count"]},
                "period_start": {"type": "string", "format": "date-time"},
                "period_end": {"type": "string", "format": "date-time"},
                "value": {"type": "integer", "description": "The metric's aggregation: what is billed."},
                "event_count": {"type": "integer"},
                "sum": {"type": "integer"},
                "max": {"type": "integer"},
                "unique_count": {"type": "integer"},
                "closed": {"type": "boolean", "description": "Final: the billing run has closed the period."},
            },
        },
        "UsageList": {
            "type": "object",
            "required": ["data"],
            "additionalProperties": False,
            "properties": {"data": {"type": "array", "items": _ref("UsageAggregate")}},
        },
        "Service": {
            "type": "object",
            "required": [
                "id",
                "type",
                "name",
                "status",
                "hardware_serial",
                "monthly_fee",
                "currency",
                "activated_at",
                "suspended_at",
                "cancelled_at",
            ],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "integer"},
                "type": {"type": "string"},
                "name": {"type": "string"},
                "status": {"type": "string", "enum": list(SERVICE_STATUSES)},
                "hardware_serial": NULLABLE_STR,
                "monthly_fee": {"type": "integer", "description": "Cents."},
                "currency": {"type": "string", "minLength": 3, "maxLength": 3},
                "activated_at": NULLABLE_TIME,
                "suspended_at": NULLABLE_TIME,
                "cancelled_at": NULLABLE_TIME,
            },
        },
        "ServiceList": _list("Service"),
        "InvoiceLine": {
            "type": "object",
            "required": ["description", "quantity", "unit_price", "total", "metric", "service_id"],
            "additionalProperties": False,
            "properties": {
                "description": {"type": "string"},
                "quantity": {"type": "integer"},
                "unit_price": {"type": "integer", "description": "Cents."},
                "total": {"type": "integer", "description": "Cents."},
                "metric": NULLABLE_STR,
                "service_id": {"type": ["integer", "null"]},
            },
        },
        "InvoiceSummary": _invoice(lines=False),
        "Invoice": _invoice(lines=True),
        "InvoiceList": _list("InvoiceSummary"),
        **events_openapi.schemas(_list),
    }


def _list(item):
    return {
        "type": "object",
        "required": ["data", "next_cursor"],
        "additionalProperties": False,
        "properties": {
            "data": {"type": "array", "items": _ref(item)},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as cursor for the next page; null at the end.",
            },
        },
    }


def _invoice(lines: bool):
    properties = {
        "id": {"type": "integer"},
        "number": {"type": "string", "pattern": "^INV-[0-9]{4}-[0-9]{6}$"},
        "status": {"type": "string", "enum": list(INVOICE_STATUSES)},
        "currency": {"type": "string", "minLength": 3, "maxLength": 3},
        "period_start": {"type": "string", "format": "date"},
        "period_end": {"type": "string", "format": "date"},
        "subtotal": {"type": "integer"},
        "tax": {"type": "integer"},
        "total": {"type": "integer"},
        "amount_paid": {"type": "integer"},
        "amount_due": {"type": "integer"},
        "subscription_id": {"type": ["integer", "null"]},
        "issued_at": NULLABLE_TIME,
        "due_at": NULLABLE_TIME,
        "paid_at": NULLABLE_TIME,
    }
    if lines:
        properties["lines"] = {"type": "array", "items": _ref("InvoiceLine")}
    return {"type": "object", "required": sorted(properties), "additionalProperties": False, "properties": properties}


@functools.cache
def spec() -> dict:
    security = lambda scope: [{"apiKey": [scope]}]  # noqa: E731
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tessera API",
            "version": "1.0.0",
            "description": (
                "Send metered usage and read usage, services, invoices and events of your organization. "
                "Authenticate with an API key from /o/<slug>/api-keys: `Authorization: Bearer <key>`. "
                "Each key has scopes and an hourly request limit (RateLimit-* headers); each plan has a monthly "
                'API-call allowance. Errors are `{"error": {"code", "message", "details"}}` with stable codes. '
                "Amounts are integer cents with an ISO currency code. Lists use cursor pagination. "
                "Text holding a NUL byte or a lone surrogate, anywhere, is refused (422 invalid_characters), "
                "and so is JSON nested more than 32 levels deep (422 json_too_deep)."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": f"An API key. Scopes: {', '.join(SCOPES)}.",
                }
            },
            "schemas": _schemas(),
        },
        "paths": {
            "/usage-events": {
                "post": {
                    "operationId": "createUsageEvents",
                    "summary": "Send usage events",
                    "description": (
                        'One event, or a batch of up to 1,000 as {"events": [...]}. Idempotent by event_id: an id '
                        "already stored is reported as duplicate and never counted twice, also when the same batch "
                        "arrives twice at once. Invalid events of a batch are listed under rejected with a code; the "
                        "rest are stored. A single invalid event answers 422 validation_failed."
                    ),
                    "security": security("usage:write"),
                    "x-scope": "usage:write",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"oneOf": [_ref("UsageEvent"), _ref("UsageEventBatch")]}}
                        },
                    },
                    "responses": {
                        "200": _ok("IngestResult", "What was stored, duplicate and rejected."),
                        **_errors(401, 403, 409, 413, 422, 429),
                    },
                }
            },
            "/usage": {
                "get": {
                    "operationId": "getUsage",
                    "summary": "Usage aggregates by metric and billing period",
                    "description": (
                        "Billing periods are calendar months (UTC). Open periods are computed live. "
                        "to may not be before from, and one request covers at most 24 months "
                        "(422 invalid_parameter otherwise)."
                    ),
                    "security": security("usage:read"),
                    "x-scope": "usage:read",
                    "parameters": [
                        {
                            "name": "from",
                            "in": "query",
                            "required": False,
                            "description": "First month, YYYY-MM, 1900-01 to 2199-12 (default: last month).",
                            "schema": {"type": "string", "pattern": MONTH_PATTERN},
                        },
                        {
                            "name": "to",
                            "in": "query",
                            "required": False,
                            "description": "Last month, YYYY-MM, 1900-01 to 2199-12 (default: this month).",
                            "schema": {"type": "string", "pattern": MONTH_PATTERN},
                        },
                        {
                            "name": "metric",
                            "in": "query",
                            "required": False,
                            "description": "Only this metric.",
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {"200": _ok("UsageList", "Aggregates."), **_errors(401, 403, 422, 429)},
                }
            },
            "/services": {
                "get": {
                    "operationId": "listServices",
                    "summary": "List services",
                    "security": security("services:read"),
                    "x-scope": "services:read",
                    "parameters": [
                        *PAGINATION,
                        {
                            "name": "status",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": list(SERVICE_STATUSES)},
                        },
                    ],
                    "responses": {"200": _ok("ServiceList", "Newest first."), **_errors(401, 403, 422, 429)},
                }
            },
            "/invoices": {
                "get": {
                    "operationId": "listInvoices",
                    "summary": "List invoices",
                    "description": "Finalized invoices only (drafts are not shown), newest first.",
                    "security": security("invoices:read"),
                    "x-scope": "invoices:read",
                    "parameters": [
                        *PAGINATION,
                        {
                            "name": "status",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": list(INVOICE_STATUSES)},
                        },
                    ],
                    "responses": {"200": _ok("InvoiceList", "Newest first."), **_errors(401, 403, 422, 429)},
                }
            },
            "/invoices/{invoice_id}": {
                "get": {
                    "operationId": "getInvoice",
                    "summary": "One invoice with its lines",
                    "security": security("invoices:read"),
                    "x-scope": "invoices:read",
                    "parameters": [
                        {"name": "invoice_id", "in": "path", "required": True, "schema": {"type": "integer"}}
                    ],
                    "responses": {"200": _ok("Invoice", "The invoice."), **_errors(401, 403, 404, 429)},
                }
            },
            **events_openapi.paths(security, _ok, _errors, PAGINATION),
        },
    }
