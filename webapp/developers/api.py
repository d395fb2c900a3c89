"""GET /api/v1/events and /api/v1/events/<id>: what webhooks sent (or missed), kept 30 days."""

from __future__ import annotations

from datetime import datetime

from flask import jsonify, request
from sqlalchemy import select

from webapp.api import public_bp
from webapp.api.v1 import ApiFailure, _page, endpoint
from webapp.core.parsing import parse_instant
from webapp.developers.catalog import TYPES
from webapp.developers.models import Event
from webapp.developers.services import event_payload
from webapp.extensions import db

TIME_PARAMS = ("created[gte]", "created[lte]")
PUBLIC_ID_PATTERN = r"^evt_[0-9a-f]{24}$"


def _time(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    value = parse_instant(raw)
    if value is None:
        raise ApiFailure(
            422, "invalid_parameter", f"{name} is an ISO 8601 date-time with a time zone.", {"param": name}
        )
    return value


def _visible(org_id: int):
    return select(Event).where(Event.organization_id == org_id, Event.is_test.is_(False))


@public_bp.get("/v1/events")
@endpoint("events:read")
def list_events(key):
    stmt = _visible(key.organization_id)
    kind = request.args.get("type")
    if kind is not None:
        if kind not in TYPES:
            raise ApiFailure(422, "invalid_parameter", "type is one of the catalogue's event types.", {"param": "type"})
        stmt = stmt.where(Event.type == kind)
    since, until = _time("created[gte]"), _time("created[lte]")
    if since is not None:
        stmt = stmt.where(Event.created_at >= since)
    if until is not None:
        stmt = stmt.where(Event.created_at <= until)
    return _page(stmt, Event.id, event_payload)


@public_bp.get("/v1/events/<string:event_id>")
@endpoint("events:read")
def get_event(key, event_id: str):
    event = None
    if event_id.startswith("evt_") and len(event_id) <= 40:
        event = db.session.scalar(_visible(key.organization_id).where(Event.public_id == event_id))
    if event is None:
        raise ApiFailure(404, "not_found", "There is no event with that id.", {"event_id": event_id[:40]})
    return jsonify(event_payload(event))
