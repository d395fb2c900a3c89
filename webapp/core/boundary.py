"""Hostile input stops here, once, before any view or service sees it.

- Text: a NUL byte or a lone surrogate in a path segment, query argument, form field, uploaded file
  name or JSON string is refused (PostgreSQL cannot store NUL; a lone surrogate cannot be encoded).
  A path answers 400, a query argument, form field or body 422, code ``invalid_characters``.
- Ids in URLs: ``<int:…>`` is ``BoundedIntConverter`` app-wide, ASCII digits up to BIGINT's maximum;
  anything larger matches no route (404) instead of reaching the database.
- Bodies: the byte limit applies to what is actually read: Werkzeug refuses a too-long
  Content-Length, and a chunked body answers 413 at the first byte past the limit (Werkzeug alone
  would cut it off there silently); a view lowers the limit with ``@body_limit(n)``. JSON is parsed by ``load_json``:
  at most ``JSON_MAX_DEPTH`` levels, counted before the parser runs, so ``"[" * 100000`` is a 422,
  never a RecursionError.
- A value the database still refuses (out of range, not storable) rolls back and answers 422: the
  last line of defence, logged, so the missing check gets written where the value came in.

Numbers and dates read from text go through ``webapp.core.parsing``.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.exc import DataError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter
from werkzeug.wsgi import get_input_stream

from webapp.core.errors import DomainError
from webapp.core.parsing import BIGINT_MAX

log = logging.getLogger(__name__)

JSON_MAX_DEPTH = 32
FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class InvalidInput(DomainError):
    """Input refused at the boundary; ``details`` name the field and where it was."""

    status = 422

    def __init__(self, message: str, *, code: str, status: int = 422, field: str | None = None, where: str = "body"):
        super().__init__(message, code=code, field=field, details={"field": field, "in": where})
        self.status = status


def has_forbidden_characters(text: str) -> bool:
    return FORBIDDEN.search(text) is not None


def _refuse_characters(field: str, where: str) -> InvalidInput:
    place = {"path": "The address", "query": f"The {field} parameter", "json": f"The {field} value"}.get(
        where, f"The {field} field"
    )
    return InvalidInput(
        f"{place} contains a character that cannot be stored (a NUL byte or a broken character). "
        "Remove it and try again.",
        code="invalid_characters",
        status=400 if where == "path" else 422,
        field=field,
        where=where,
    )


# ---------------------------------------------------------------- ids in URLs


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` with ASCII digits only, at most BIGINT's maximum (ids are BIGINT on PostgreSQL)."""

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=BIGINT_MAX if max is None else max, signed=signed)

    def to_python(self, value: str):
        if len(value.lstrip("-")) > 19:  # past BIGINT's 19 digits; int() of a huge string is not free
            from werkzeug.routing import ValidationError

            raise ValidationError()
        return super().to_python(value)


# ---------------------------------------------------------------- JSON


# NUL or a surrogate, raw or escaped (\u0000, \uD800 to \uDFFF); a surrogate pair also matches (then the walk decides).
_MAY_HOLD_FORBIDDEN = re.compile(r"[\x00\ud800-\udfff]|\\u(?:0000|[dD][89a-fA-F])")
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _too_deep(text: str, limit: int) -> bool:
    depth = 0
    for char in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _forbidden_path(value: Any) -> str | None:
    """The path (``events.3.event_id``) of the first string holding a forbidden character, if any."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if has_forbidden_characters(item):
                return where or "body"
        elif isinstance(item, dict):
            for key, child in item.items():
                path = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and has_forbidden_characters(key):
                    return path
                stack.append((child, path))
        elif isinstance(item, list):
            stack.extend((child, f"{where}.{i}" if where else str(i)) for i, child in enumerate(item))
    return None


def _deeper_than(value: Any, limit: int) -> bool:
    """True when ``value`` (parsed) nests containers more than ``limit`` levels deep (one level at a time)."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below = []
        for item in level:
            for child in item.values() if isinstance(item, dict) else item:
                if isinstance(child, dict | list):
                    below.append(child)
        level = below
    return False


def load_json(raw: bytes | str, *, max_depth: int = JSON_MAX_DEPTH, **json_kwargs: Any) -> Any:
    """Parse a JSON document from outside. Malformed → ValueError (as ``json.loads``); too deep or a
    string holding NUL / a lone surrogate → ``InvalidInput`` (422)."""
    text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw  # UnicodeDecodeError is a ValueError
    too_deep = InvalidInput(
        f"The JSON body is nested more than {max_depth} levels deep.", code="json_too_deep", where="json"
    )
    # Parsed first, the depth checked on the result (a walk over the containers is several times cheaper
    # than a scan of the text); the parser's own recursion limit, or a malformed text, falls back to the scan.
    try:
        value = json.loads(text, **json_kwargs)
    except RecursionError:
        raise too_deep from None
    except ValueError:
        if _too_deep(text, max_depth):
            raise too_deep from None
        raise
    if _deeper_than(value, max_depth):
        raise too_deep
    # A parsed string can hold NUL or a lone surrogate only if the text does, raw or as a \u escape (text
    # decoded from UTF-8 holds no surrogate), so the walk over every value is nearly always skipped.
    if isinstance(raw, bytes | bytearray):
        may_hold = "\\u" in text or "\x00" in text
    else:
        may_hold = _MAY_HOLD_FORBIDDEN.search(text) is not None
    found = _forbidden_path(value) if may_hold else None
    if found is not None:
        raise _refuse_characters(found, "json")
    return value


class GuardedJSONProvider(DefaultJSONProvider):
    """The app's JSON provider: ``request.get_json()`` parses with ``load_json``; dumping is Flask's."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json(s, **kwargs)


# ---------------------------------------------------------------- body limits


def body_limit(limit: int | Callable[[], int]):
    """The most bytes this view reads from a request body (an int, or a callable read per request);
    the app-wide ``MAX_CONTENT_LENGTH`` otherwise. Enforced on what is read, chunked or not."""

    def mark(view):
        view.body_limit = limit
        return view

    return mark


class _StrictLimitedStream(io.RawIOBase):
    """A body without Content-Length (chunked) read through Werkzeug's limit is cut off at the limit
    without a word; this one answers 413 as soon as a byte past the limit arrives."""

    def __init__(self, inner: io.RawIOBase, limit: int):
        self._inner, self._limit, self._read = inner, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self._inner.readinto(buffer)
        self._read += count
        if self._read > self._limit:
            raise RequestEntityTooLarge()
        return count


def _apply_body_limit() -> None:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    limit = getattr(view, "body_limit", None)
    if limit is not None:
        request.max_content_length = limit() if callable(limit) else limit
    limit = request.max_content_length
    if limit is not None and request.content_length is None and "wsgi.input_terminated" in request.environ:
        # Werkzeug refuses a too-long Content-Length up front; a streamed body is counted as it is read.
        inner = get_input_stream(request.environ, max_content_length=limit + 1)
        if not isinstance(inner, io.RawIOBase):  # Werkzeug's LimitedStream, which it types as IO[bytes]
            raise TypeError(f"unexpected request stream {type(inner).__name__}")
        request.__dict__["stream"] = _StrictLimitedStream(inner, limit)


# ---------------------------------------------------------------- the hook


def check_request() -> None:
    """Refuse NUL bytes and lone surrogates anywhere in the request a view may read."""
    _apply_body_limit()
    if has_forbidden_characters(request.path):
        raise _refuse_characters("path", "path")
    for key, value in request.args.items(multi=True):
        if has_forbidden_characters(key) or has_forbidden_characters(value):
            raise _refuse_characters(key, "query")
    if request.method not in BODY_METHODS:
        return
    if request.mimetype in FORM_MIMETYPES:
        for key, value in request.form.items(multi=True):
            if has_forbidden_characters(key) or has_forbidden_characters(value):
                raise _refuse_characters(key, "form")
        for key, upload in request.files.items(multi=True):
            if has_forbidden_characters(key) or has_forbidden_characters(upload.filename or ""):
                raise _refuse_characters(key, "form")
    elif request.is_json:
        request.get_json(silent=True)  # load_json refuses what is too deep or not storable; views get the cache


def init_app(app: Flask) -> None:
    """Before any blueprint registers its rules: the converter must be in place when they are bound."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.json_provider_class = GuardedJSONProvider
    app.json = GuardedJSONProvider(app)
    app.before_request(check_request)

    @app.errorhandler(DataError)
    def database_refused_value(error: DataError):
        from webapp.core.security import error_response
        from webapp.extensions import db

        db.session.rollback()
        log.warning("the database refused a value on %s %s: %s", request.method, request.path, error.orig)
        return error_response(
            422, "invalid_value", "A value you sent is out of range or cannot be stored. Check it and try again."
        )
