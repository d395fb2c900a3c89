"""The events API's part of the OpenAPI document (merged by ``webapp.api.openapi.spec``)."""

from __future__ import annotations

from webapp.developers.catalog import CATALOG, TYPES

EVENT_ID_PATTERN = "^evt_[0-9a-f]{24}$"


def schemas(list_of) -> dict:
    return {
        "Event": {
            "type": "object",
            "required": ["id", "object", "type", "api_version", "created_at", "data"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "pattern": EVENT_ID_PATTERN, "description": "Stable: the same in a webhook."},
                "object": {"type": "string", "enum": ["event"]},
                "type": {"type": "string", "enum": list(TYPES)},
                "api_version": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
                "data": {
                    "type": "object",
                    "required": ["object"],
                    "additionalProperties": False,
                    "properties": {
                        "object": {
                            "type": "object",
                            "description": "The object as this API shows it, at the event's time.",
                        }
                    },
                },
            },
        },
        "EventList": list_of("Event"),
    }


def paths(security, ok, errors, pagination) -> dict:
    catalogue = "; ".join(f"`{name}`: {t.description}" for name, t in CATALOG.items())
    return {
        "/events": {
            "get": {
                "operationId": "listEvents",
                "summary": "List events",
                "description": (
                    "What happened in your organization, newest first, kept 30 days: the same events webhooks "
                    f"deliver, so you can reconcile what an endpoint missed. Types: {catalogue}."
                ),
                "security": security("events:read"),
                "x-scope": "events:read",
                "parameters": [
                    *pagination,
                    {
                        "name": "type",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": list(TYPES)},
                    },
                    {
                        "name": "created[gte]",
                        "in": "query",
                        "required": False,
                        "description": "Created at or after this time (ISO 8601 with time zone).",
                        "schema": {"type": "string", "format": "date-time", "maxLength": 40},
                    },
                    {
                        "name": "created[lte]",
                        "in": "query",
                        "required": False,
                        "description": "Created at or before this time (ISO 8601 with time zone).",
                        "schema": {"type": "string", "format": "date-time", "maxLength": 40},
                    },
                ],
                "responses": {"200": ok("EventList", "Newest first."), **errors(401, 403, 422, 429)},
            }
        },
        "/events/{event_id}": {
            "get": {
                "operationId": "getEvent",
                "summary": "One event",
                "security": security("events:read"),
                "x-scope": "events:read",
                "parameters": [
                    {
                        "name": "event_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": EVENT_ID_PATTERN},
                    }
                ],
                "responses": {"200": ok("Event", "The event."), **errors(401, 403, 404, 429)},
            }
        },
    }
