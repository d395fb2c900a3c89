"""The API's contract in one place: every operation is declared once (method, path, scope, the pydantic
models of its parameters, body and answer), and from that one declaration come both the checks a
request goes through and the OpenAPI document (``webapp.api.openapi.spec``), so the two cannot drift.

A bad value is refused with the stable code and the words its field declares (``Refusal``), not with
pydantic's own error text: the codes are part of the API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, get_args

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core.core_schema import ErrorType

# Every code an error answer may carry, by status (listed in the document's descriptions and enum).
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


class ApiFailure(Exception):
    """An API error answer: ``{"error": {"code", "message", "details"}}`` with ``status``."""

    def __init__(self, status, code, message, details=None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


@dataclass(frozen=True)
class Refusal:
    """How a bad value of a field (or of a whole object, in ``ApiModel.refusals``) is refused.

    ``on`` lists the pydantic error types it answers (empty: any). ``message`` may name ``{param}``
    (the field as the client spells it) and ``{error}`` (the words of the parser that refused it).
    ``details`` builds the details from pydantic's error; by default they name a parameter (and are
    empty for a body's field).
    A validator can also raise ``PydanticCustomError(<API code>, message, details)`` directly."""

    message: str
    code: str = "invalid_parameter"
    status: int = 422
    on: tuple[str, ...] = ()
    details: Callable[[dict], dict] | None = None


@dataclass(frozen=True)
class InPath:
    """Marks a parameter that is part of the path (the others are read from the query string)."""


class ApiModel(BaseModel):
    """A request body or an answer: exactly these fields, nothing else."""

    model_config = ConfigDict(extra="forbid")
    refusals: ClassVar[tuple[Refusal, ...]] = ()


class Params(BaseModel):
    """An operation's parameters. Unknown query parameters are ignored, as HTTP APIs usually do."""

    model_config = ConfigDict(extra="ignore")
    refusals: ClassVar[tuple[Refusal, ...]] = ()


_PYDANTIC_ERRORS = frozenset(get_args(ErrorType))  # any other type is a code a validator of ours raised


def _message(refusal: Refusal, param: str, error: dict) -> str:
    cause = (error.get("ctx") or {}).get("error")
    return refusal.message.replace("{param}", param).replace("{error}", str(cause) if cause else error["msg"])


def _fields_by_name(model: type[BaseModel]) -> dict[str, Any]:
    return {(info.alias or name): info for name, info in model.model_fields.items()}


def _refusal_for(model: Any, error: dict) -> ApiFailure:
    loc = list(error["loc"])
    tags = getattr(model, "__tags__", {})
    if loc and loc[0] in tags:  # a branch of a tagged union: the rest of the location is inside that model
        model = tags[loc.pop(0)]
    if error["type"] not in _PYDANTIC_ERRORS or not isinstance(model, type) or not issubclass(model, BaseModel):
        ctx = {k: v for k, v in (error.get("ctx") or {}).items() if k != "error"}
        return ApiFailure(422, error["type"], error["msg"], ctx)
    info = _fields_by_name(model).get(loc[0]) if loc and error["type"] != "extra_forbidden" else None
    candidates = [m for m in info.metadata if isinstance(m, Refusal)] if info else list(getattr(model, "refusals", ()))
    param = str(loc[0]) if loc else ""
    for refusal in candidates:
        if not refusal.on or error["type"] in refusal.on:
            if refusal.details:
                details = refusal.details(error)
            else:  # a parameter is named; a body's errors carry no details (as before the models)
                details = {"param": param} if issubclass(model, Params) else {}
            return ApiFailure(refusal.status, refusal.code, _message(refusal, param, error), details)
    return ApiFailure(422, "invalid_parameter", f"{param or 'the request'}: {error['msg']}.", {"param": param})


def first_error(errors: list[dict]) -> dict:
    """The error to answer with: an unknown field first (as the hand checks did), else the first field's."""
    return min(enumerate(errors), key=lambda pair: (pair[1]["type"] != "extra_forbidden", pair[0]))[1]


def refusal(model: Any, exc: ValidationError) -> ApiFailure:
    # pydantic types its errors as a TypedDict; as plain dicts they are what the refusal helpers read.
    return _refusal_for(model, first_error([dict(e) for e in exc.errors(include_url=False)]))


def validate(model: Any, data: Any, *, context: dict | None = None) -> Any:
    """``data`` through ``model`` (a model class); a refusal is raised as the API's error answer."""
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise refusal(model, exc) from None


class DescribedAs:
    """Validated as the type it annotates, described in the document as ``model`` (for a value another,
    faster validator checks later, and a test proves that validator agrees with ``model``)."""

    def __init__(self, model: type[BaseModel]):
        self.model = model

    def __get_pydantic_json_schema__(self, core_schema, handler):
        return handler(self.model.__pydantic_core_schema__)


# ------------------------------------------------------------------ the operations


@dataclass(frozen=True)
class Operation:
    """One operation of /api/v1/: everything the document says about it, and what its checks use."""

    method: str
    path: str  # as the document spells it: /invoices/{invoice_id}
    operation_id: str
    summary: str
    scope: str
    response: type[BaseModel]
    response_description: str
    description: str = ""
    params: type[Params] | None = None
    body: type[BaseModel] | None = None
    statuses: tuple[int, ...] = ()  # errors the operation answers itself (404 for an unknown id, 409 …)
    components: tuple[type[BaseModel], ...] = field(default=())  # models only referred to in descriptions

    def refusal_statuses(self) -> set[int]:
        """The statuses its parameters' and body's refusals answer with: each field's declared refusals,
        else 422 (a path parameter without any is converted by the route and cannot be refused)."""
        statuses = set()
        for model in (self.params, self.body, *getattr(self.body, "__tags__", {}).values()):
            if model is None:
                continue
            statuses |= {r.status for r in model.refusals}
            for info in model.model_fields.values():
                declared = [m for m in info.metadata if isinstance(m, Refusal)]
                if declared:
                    statuses |= {r.status for r in declared}
                elif not any(isinstance(m, InPath) for m in info.metadata):
                    statuses.add(422)
        return statuses


OPERATIONS: list[Operation] = []


def declare(operation: Operation) -> Operation:
    if any((o.method, o.path) == (operation.method, operation.path) for o in OPERATIONS):
        raise ValueError(f"{operation.method.upper()} {operation.path} is declared twice")
    OPERATIONS.append(operation)
    return operation


def flask_rule(operation: Operation) -> str:
    """/invoices/{invoice_id} → /invoices/<int:invoice_id>, the converter from the parameter's type."""
    rule = operation.path
    fields = _fields_by_name(operation.params) if operation.params else {}
    for name, info in fields.items():
        if any(isinstance(m, InPath) for m in info.metadata):
            converter = "int" if info.annotation is int else "string"
            rule = rule.replace("{" + name + "}", f"<{converter}:{name}>")
    return rule


# ------------------------------------------------------------------ JSON Schema for the document


class DocumentSchema(GenerateJsonSchema):
    """pydantic's JSON Schema, as a person reads it in the document: no generated titles, and a value
    that may be null written as ``{"type": ["string", "null"]}`` where the type is a plain one."""

    def field_title_should_be_set(self, schema) -> bool:
        return False

    def model_schema(self, schema):
        generated = super().model_schema(schema)
        generated.pop("title", None)
        return generated

    def nullable_schema(self, schema):
        inner = self.generate_inner(schema["schema"])
        if isinstance(inner.get("type"), str) and "$ref" not in inner:
            return {**inner, "type": [inner["type"], "null"]}
        return super().nullable_schema(schema)


def json_schema_of(annotation: Any) -> dict:
    return TypeAdapter(annotation).json_schema(schema_generator=DocumentSchema)
