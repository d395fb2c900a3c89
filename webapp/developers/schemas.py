"""The events API's models: an event as the API and webhooks show it, and how the list is filtered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from webapp.core.api_schemas import Instant, Page, UtcTime, page_of
from webapp.core.contract import ApiModel, InPath, Params, Refusal
from webapp.developers.catalog import TYPES

EVENT_ID_PATTERN = "^evt_[0-9a-f]{24}$"


class EventData(ApiModel):
    object: Annotated[dict[str, Any], Field(description="The object as this API shows it, at the event's time.")]


if TYPE_CHECKING:  # a Literal built from the catalogue at run time; a type checker cannot read it, so a string
    EventType = str
else:
    EventType = Literal[TYPES]


class Event(ApiModel):
    id: Annotated[str, Field(pattern=EVENT_ID_PATTERN, description="Stable: the same in a webhook.")]
    object: Literal["event"]
    type: EventType
    api_version: str
    created_at: UtcTime
    data: EventData


EventList = page_of(Event, "EventList")


TimeFilter = Annotated[Instant | None, Refusal("{param} is an ISO 8601 date-time with a time zone.")]


class EventListParams(Page):
    type: Annotated[EventType | None, Refusal("type is one of the catalogue's event types.")] = None
    created_gte: Annotated[
        TimeFilter,
        Field(alias="created[gte]", description="Created at or after this time (ISO 8601 with time zone)."),
    ] = None
    created_lte: Annotated[
        TimeFilter,
        Field(alias="created[lte]", description="Created at or before this time (ISO 8601 with time zone)."),
    ] = None


class EventParams(Params):
    # A malformed id names no event: refused as an unknown one is.
    event_id: Annotated[
        str,
        InPath(),
        Field(pattern=EVENT_ID_PATTERN),
        Refusal(
            "There is no event with that id.",
            code="not_found",
            status=404,
            details=lambda error: {"event_id": str(error["input"])[:40]},
        ),
    ]
