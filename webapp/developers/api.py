"""GET /api/v1/events and /api/v1/events/<id>: what webhooks sent (or missed), kept 30 days."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from webapp.api.v1 import ApiFailure, _page, operation
from webapp.core.api_schemas import answer_data
from webapp.developers.catalog import CATALOG
from webapp.developers.models import Event
from webapp.developers.schemas import Event as EventOut
from webapp.developers.schemas import EventList, EventListParams, EventParams
from webapp.developers.services import event_payload
from webapp.extensions import db


def _visible(org_id: int):
    return select(Event).where(Event.organization_id == org_id, Event.is_test.is_(False))


@operation(
    "get",
    "/events",
    operation_id="listEvents",
    summary="List events",
    description=(
        "What happened in your organization, newest first, kept 30 days: the same events webhooks "
        "deliver, so you can reconcile what an endpoint missed. Types: "
        + "; ".join(f"`{name}`: {t.description}" for name, t in CATALOG.items())
        + "."
    ),
    scope="events:read",
    params=EventListParams,
    response=EventList,
    response_description="Newest first.",
)
def list_events(key, params: EventListParams):
    stmt = _visible(key.organization_id)
    if params.type is not None:
        stmt = stmt.where(Event.type == params.type)
    if params.created_gte is not None:
        stmt = stmt.where(Event.created_at >= params.created_gte)
    if params.created_lte is not None:
        stmt = stmt.where(Event.created_at <= params.created_lte)
    return _page(stmt, Event.id, EventList, params, event_payload)


@operation(
    "get",
    "/events/{event_id}",
    operation_id="getEvent",
    summary="One event",
    scope="events:read",
    params=EventParams,
    response=EventOut,
    response_description="The event.",
    statuses=(404,),
)
def get_event(key, params: EventParams):
    event = db.session.scalar(_visible(key.organization_id).where(Event.public_id == params.event_id))
    if event is None:
        raise ApiFailure(404, "not_found", "There is no event with that id.", {"event_id": params.event_id})
    return jsonify(answer_data(EventOut, event_payload(event)))
