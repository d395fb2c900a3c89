"""The OpenAPI 3.1 description of /api/v1/ (served at /api/v1/openapi.json, rendered at /api/docs).

Built, not written: the paths from the operations declared where their routes are
(``webapp.core.contract.OPERATIONS``), the schemas from their pydantic models. Schemas are JSON
Schema 2020-12; the test suite validates real responses against them and fuzzes the API with them.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from webapp.api.models import SCOPES
from webapp.core.contract import ERROR_CODES, OPERATIONS, DocumentSchema, InPath, Operation, _fields_by_name

REF = "#/components/schemas/{model}"
RATE_HEADERS = {
    "RateLimit-Limit": {"description": "Requests this key may make per hour.", "schema": {"type": "integer"}},
    "RateLimit-Remaining": {"description": "Requests left in this hour.", "schema": {"type": "integer"}},
    "RateLimit-Reset": {"description": "Seconds until the hourly window resets.", "schema": {"type": "integer"}},
}
ALWAYS = (401, 403, 429)  # every operation needs a key with a scope, and counts against the limits
STATUS_TEXT = {
    401: "Missing, unknown, revoked or expired API key.",
    403: "The key lacks the scope, or its organization is suspended.",
    404: "Not found (or another organization's).",
    409: "Refused in the account's current state.",
    413: "Too large.",
    422: "Invalid input.",
    429: "Hourly key limit or the plan's monthly API-call allowance reached.",
}
DESCRIPTION = (
    "Send metered usage and read usage, services, invoices and events of your organization. "
    "Authenticate with an API key from /o/<slug>/api-keys: `Authorization: Bearer <key>`. "
    "Each key has scopes and an hourly request limit (RateLimit-* headers); each plan has a monthly "
    'API-call allowance. Errors are `{"error": {"code", "message", "details"}}` with stable codes. '
    "Amounts are integer cents with an ISO currency code. Lists use cursor pagination. "
    "Text holding a NUL byte or a lone surrogate, anywhere, is refused (422 invalid_characters), "
    "and so is JSON nested more than 32 levels deep (422 json_too_deep)."
)


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _error_response(status: int, error_model: type[BaseModel]) -> dict:
    headers = dict(RATE_HEADERS) if status not in (401, 403) else {}  # refused before the call is counted
    if status == 429:
        headers["Retry-After"] = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
    body = {
        "description": f"{STATUS_TEXT[status]} Codes: {', '.join(ERROR_CODES[status])}.",
        "content": {"application/json": {"schema": _ref(error_model)}},
    }
    if headers:
        body["headers"] = headers
    return body


def _absent_not_null(schema: dict) -> dict:
    """A query parameter left out is absent, never null: the null branch of an optional one goes."""
    schema = dict(schema)
    if schema.get("default", ...) is None:
        del schema["default"]
    if isinstance(schema.get("type"), list):
        kinds = [t for t in schema["type"] if t != "null"]
        schema["type"] = kinds[0] if len(kinds) == 1 else kinds
    if "anyOf" in schema:
        branches = [b for b in schema.pop("anyOf") if b != {"type": "null"}]
        schema = {**branches[0], **schema} if len(branches) == 1 else {**schema, "anyOf": branches}
    return schema


def _parameters(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema(schema_generator=DocumentSchema, ref_template=REF)
    required = set(schema.get("required", ()))
    parameters = []
    for name, info in _fields_by_name(model).items():
        prop = _absent_not_null(schema["properties"][name])
        description = prop.pop("description", None)
        in_path = any(isinstance(m, InPath) for m in info.metadata)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "path" if in_path else "query",
            "required": in_path or name in required,
        }
        if description:
            parameter["description"] = description
        parameter["schema"] = prop
        parameters.append(parameter)
    return parameters


def _path_item(op: Operation, error_model: type[BaseModel]) -> dict:
    item: dict = {"operationId": op.operation_id, "summary": op.summary}
    if op.description:
        item["description"] = op.description
    item["security"] = [{"apiKey": [op.scope]}]
    item["x-scope"] = op.scope
    if op.params is not None:
        item["parameters"] = _parameters(op.params)
    if op.body is not None:
        item["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(op.body)}}}
    statuses = sorted({*ALWAYS, *op.refusal_statuses(), *op.statuses})
    item["responses"] = {
        "200": {
            "description": op.response_description,
            "headers": RATE_HEADERS,
            "content": {"application/json": {"schema": _ref(op.response)}},
        },
        **{str(s): _error_response(s, error_model) for s in statuses},
    }
    return item


def _shared(schemas: dict) -> dict:
    """A component written out inside another (a model only described, see ``DescribedAs``) is
    referred to instead, so it is one schema in the document."""

    def share(node):
        if isinstance(node, dict):
            for name, schema in schemas.items():
                if node == schema and node is not schemas.get(name):
                    return {"$ref": REF.format(model=name)}
            return {k: share(v) for k, v in node.items()}
        if isinstance(node, list):
            return [share(v) for v in node]
        return node

    return {name: {k: share(v) for k, v in schema.items()} for name, schema in schemas.items()}


def _operations() -> list[Operation]:
    # The routes declare their operations when they are imported.
    from webapp.api import v1  # noqa: F401 (imported for its @operation declarations)
    from webapp.developers import api  # noqa: F401 (the events API's declarations)

    return OPERATIONS


@functools.cache
def spec() -> dict:
    from webapp.core.api_schemas import Error

    operations = _operations()
    models: list[type[BaseModel]] = [Error]
    for op in operations:
        for model in (op.body, *getattr(op.body, "__tags__", {}).values(), op.response, *op.components):
            if model is not None and model not in models:
                models.append(model)
    _, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF, schema_generator=DocumentSchema)
    schemas = _shared(defs.get("$defs", {}))
    paths: dict = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method] = _path_item(op, Error)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Tessera API", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": f"An API key. Scopes: {', '.join(SCOPES)}.",
                }
            },
            "schemas": schemas,
        },
        "paths": paths,
    }
