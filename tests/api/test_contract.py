"""The operations' models refuse bad input with the API's stable codes, words and details, and the
document's date-time pattern is exactly what the parser takes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.api.helpers import bearer, org_with_key
from webapp.core.parsing import INSTANT_PATTERN, parse_instant


def _error(response):
    return (
        response.status_code,
        response.json["error"]["code"],
        response.json["error"]["message"],
        response.json["error"]["details"],
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/services?limit=abc",
            (422, "invalid_parameter", "limit is a whole number from 1 to 200.", {"param": "limit"}),
        ),
        (
            "/services?limit=201",
            (422, "invalid_parameter", "limit is a whole number from 1 to 200.", {"param": "limit"}),
        ),
        (
            "/services?cursor=",
            (422, "invalid_cursor", "Pass back the next_cursor of the previous page.", {"param": "cursor"}),
        ),
        (
            "/services?status=active",
            (
                422,
                "invalid_parameter",
                "status is one of ACTIVE, SUSPENDED, CANCELLED.",
                {"param": "status", "allowed": ["ACTIVE", "SUSPENDED", "CANCELLED"]},
            ),
        ),
        ("/usage?from=2026-13", (422, "invalid_parameter", "from: Enter a month like 2026-11.", {"param": "from"})),
        (
            "/usage?to=1899-12",
            (422, "invalid_parameter", "to: Enter a month from 1900-01 to 2199-12.", {"param": "to"}),
        ),
        ("/usage?from=2026-05&to=2026-04", (422, "invalid_parameter", "to is before from.", {"param": "to"})),
        (
            "/usage?from=2024-01&to=2026-01",
            (422, "invalid_parameter", "Ask for at most 24 months at a time.", {"param": "from"}),
        ),
        (
            "/events?type=nope",
            (422, "invalid_parameter", "type is one of the catalogue's event types.", {"param": "type"}),
        ),
        (
            "/events?created%5Bgte%5D=yesterday",
            (
                422,
                "invalid_parameter",
                "created[gte] is an ISO 8601 date-time with a time zone.",
                {"param": "created[gte]"},
            ),
        ),
        ("/events/evt_NOPE", (404, "not_found", "There is no event with that id.", {"event_id": "evt_NOPE"})),
        ("/events/" + "x" * 50, (404, "not_found", "There is no event with that id.", {"event_id": "x" * 40})),
    ],
)
def test_a_bad_parameter_is_refused_with_its_code_words_and_details(client, ctx, path, expected):
    _, _, _, plain = org_with_key(scopes=("usage:read", "services:read", "events:read"))
    assert _error(client.client.get("/api/v1" + path, headers=bearer(plain))) == expected


def test_a_good_page_and_unknown_parameters_are_taken(client, ctx):
    _, _, _, plain = org_with_key(scopes=("services:read",))
    answer = client.client.get(
        "/api/v1/services?limit=%2050%20&cursor=99999999999999999&whatever=1", headers=bearer(plain)
    )
    assert answer.status_code == 200 and answer.json == {"data": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ([1], (422, "invalid_body", 'Send one event object, or {"events": [...]} with up to 1,000 events.', {})),
        (
            {"events": [], "extra": 1},
            (422, "invalid_body", 'A batch is {"events": [...]} and nothing else.', {}),
        ),
        ({"events": {}}, (422, "invalid_body", "events is a list of event objects.", {})),
        ({"events": []}, (422, "empty_batch", "The batch has no events.", {})),
        (
            {"events": [{}] * 1001},
            (413, "batch_too_large", "A batch holds at most 1,000 events.", {"max_events": 1000, "received": 1001}),
        ),
    ],
)
def test_a_bad_body_is_refused_with_its_code_words_and_details(client, ctx, body, expected):
    _, _, _, plain = org_with_key(scopes=("usage:write",))
    assert _error(client.client.post("/api/v1/usage-events", json=body, headers=bearer(plain))) == expected


def test_a_body_that_is_not_json_is_an_invalid_body(client, ctx):
    _, _, _, plain = org_with_key(scopes=("usage:write",))
    answer = client.client.post(
        "/api/v1/usage-events", data="nope", headers={**bearer(plain), "Content-Type": "application/json"}
    )
    assert answer.status_code == 422 and answer.json["error"]["code"] == "invalid_body"


@settings(max_examples=300, deadline=None)
@given(st.from_regex(INSTANT_PATTERN, fullmatch=True).filter(lambda text: len(text) <= 40))  # and maxLength
def test_every_date_time_the_document_allows_is_taken(text):
    try:  # a day the month lacks is the format's to refuse (date-time), not the pattern's
        datetime.strptime(text[:10], "%Y-%m-%d")
    except ValueError:
        assert parse_instant(text) is None
        return
    moment = parse_instant(text)
    assert moment is not None and moment.tzinfo is UTC, text
