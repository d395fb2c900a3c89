"""The shapes every part of the JSON API shares: the error answer, cursor pages, an instant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, WithJsonSchema, create_model

from webapp.core.contract import ERROR_CODES, ApiModel, Params, Refusal
from webapp.core.parsing import BIGINT_MAX, INSTANT_PATTERN, parse_instant, parse_int

PAGE_DEFAULT, PAGE_MAX = 50, 200


def _instant(value: Any) -> datetime:
    moment = parse_instant(value)
    if moment is None:
        raise ValueError("not an ISO 8601 date-time with a time zone")
    return moment


Instant = Annotated[
    datetime,
    BeforeValidator(_instant),
    WithJsonSchema({"type": "string", "format": "date-time", "maxLength": 40, "pattern": INSTANT_PATTERN}),
]


def utc_text(value: datetime) -> str:
    """An instant as every answer writes it: UTC, ``Z``, microseconds only when there are some."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# An instant in an answer (the document describes it as pydantic's date-time; only its text is ours).
UtcTime = Annotated[datetime, PlainSerializer(utc_text, when_used="json")]


def answer_data(model: type[BaseModel], value: Any) -> dict:
    """``value`` (a row, or a dict of rows) as ``model`` describes it in the document: validated, then
    written out as JSON values. A row that does not fit its model is a bug, raised, never sent."""
    return model.model_validate(value, from_attributes=True).model_dump(mode="json")


if TYPE_CHECKING:  # a Literal built from the table at run time; a type checker cannot read it, so a string
    ErrorCode = str
else:
    ErrorCode = Literal[tuple(sorted({c for codes in ERROR_CODES.values() for c in codes}))]


class ErrorBody(ApiModel):
    code: ErrorCode
    message: str
    details: dict[str, Any]


class Error(ApiModel):
    """Every error answer: a stable code, words for people, and details (which parameter, which limit)."""

    error: ErrorBody


# ------------------------------------------------------------------ cursor pages


def _whole_number(value: Any) -> Any:
    """A query string's digits as an int (``webapp.core.parsing``: ASCII digits only); bounds are the field's."""
    return parse_int(value) if isinstance(value, str) else value


class Page(Params):
    limit: Annotated[
        int,
        Field(ge=1, le=PAGE_MAX, description=f"Items per page (1 to {PAGE_MAX}, default {PAGE_DEFAULT})."),
        BeforeValidator(_whole_number),
        Refusal(f"limit is a whole number from 1 to {PAGE_MAX}."),
    ] = PAGE_DEFAULT
    cursor: Annotated[
        str | None,
        Field(
            pattern="^[0-9]{1,19}$",
            description="The next_cursor of the previous page (up to 19 digits; leave it out for the first page).",
        ),
        Refusal("Pass back the next_cursor of the previous page.", code="invalid_cursor"),
    ] = None

    @property
    def below_id(self) -> int | None:
        """Ids below the cursor (a value past BIGINT's maximum reads as the maximum, which every id is below)."""
        return None if self.cursor is None else min(int(self.cursor), BIGINT_MAX)


def page_of(item: type[ApiModel], name: str) -> type[ApiModel]:
    """``{"data": [item…], "next_cursor"}``, the answer of a cursor-paged list."""
    return create_model(
        name,
        __base__=ApiModel,
        __module__=item.__module__,
        # create_model takes a type built at run time; a type checker only reads types written out
        data=(list[item], ...),  # type: ignore[valid-type]
        next_cursor=(
            str | None,
            Field(description="Pass as cursor for the next page; null at the end."),
        ),
    )


def status_refusal(allowed: tuple[str, ...]) -> Refusal:
    """How ``?status=`` (typed ``Annotated[<the enum's Literal> | None, status_refusal(...)]``) refuses a
    value other than the enum's, exactly as spelt: refused, not ignored."""
    return Refusal(
        f"status is one of {', '.join(allowed)}.", details=lambda _e: {"param": "status", "allowed": allowed}
    )
