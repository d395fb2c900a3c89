"""The ingestion's own fast checks (``services.validate``) and the ``UsageEvent`` model the document's
schema is generated from agree on every event: the same ones pass, with the same values, and the
others are rejected with the same code and words."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import ValidationError

from webapp.api.openapi import spec
from webapp.core.contract import refusal
from webapp.core.parsing import INSTANT_PATTERN
from webapp.usage import services
from webapp.usage.schemas import UsageEvent

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
)


def _stamp(moment: datetime, minutes: int) -> str:
    return moment.astimezone(timezone(timedelta(minutes=minutes))).isoformat()


moments = st.datetimes(
    min_value=datetime(2026, 9, 1), max_value=datetime(2026, 12, 5), timezones=st.just(UTC)
)  # across the window's both edges
timestamps = (
    st.builds(_stamp, moments, st.integers(-14 * 60, 14 * 60))
    | moments.map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%SZ"))
    | moments.map(lambda m: m.strftime("%Y-%m-%dt%H:%M:%S.%fz"))
    | moments.map(lambda m: m.replace(tzinfo=None).isoformat())  # no zone
    | moments.map(lambda m: m.strftime("%Y-%m-%dT%H:%MZ"))  # no seconds
    | st.from_regex(INSTANT_PATTERN, fullmatch=True)
    | json_values
)
ids = st.from_regex(services.EVENT_ID.pattern, fullmatch=True) | st.text(string.printable, max_size=6) | json_scalars
types = st.from_regex(services.EVENT_TYPE.pattern, fullmatch=True) | st.text(max_size=6) | json_scalars
quantities = (
    st.integers(-3, 10**12 + 3)
    | st.sampled_from([0, 10**12, 10**12 + 1, 4384.0, 4384.5, True, False, float("inf"), "3"])
    | json_values
)
data = (
    st.none()
    | st.dictionaries(st.text(max_size=5), json_values, max_size=4)
    | st.builds(lambda n: {"blob": "x" * n}, st.integers(4070, 4100))  # about the 4 KB limit
    | json_values
)
fields = {"event_id": ids, "event_type": types, "quantity": quantities, "timestamp": timestamps, "data": data}


@st.composite
def events(draw):
    present = draw(st.lists(st.sampled_from(sorted(fields)), unique=True))
    if draw(st.integers(0, 3)):  # mostly every required field, so the later rules are reached
        present = sorted({*present, "event_id", "event_type", "timestamp"})
    event = {name: draw(fields[name]) for name in present}
    if not draw(st.integers(0, 9)):
        event[draw(st.text(min_size=1, max_size=5).filter(lambda k: k not in fields))] = 1
    return event


raw_events = events() | json_values


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_events)
def test_the_fast_checks_and_the_model_agree(raw):
    row, code, message = services.validate(raw, NOW)
    try:
        event = UsageEvent.model_validate(raw, context={"now": NOW})
    except ValidationError as exc:
        failure = refusal(UsageEvent, exc)
        assert row is None, f"the model refuses ({failure.code}) what the ingestion takes: {raw!r}"
        assert failure.code == code, raw
        if code != "unknown_field":  # its words name the fields; the code is what is stable
            assert failure.message == message
        return
    assert row is not None, f"the ingestion refuses ({code}) what the model takes: {raw!r}"
    data_text = None if event.data is None else services._compact_json(event.data)
    assert row == (event.event_id, event.event_type, event.quantity, event.timestamp, data_text)


_document = spec()
_event_schema = Draft202012Validator(
    {"$ref": "#/components/schemas/UsageEvent", "components": _document["components"]},
    format_checker=FormatChecker(),
)


@settings(max_examples=300, deadline=None)
@given(raw_events)
def test_an_event_the_ingestion_takes_is_valid_by_the_document(raw):
    row, _, _ = services.validate(raw, NOW)
    if row is not None:
        _event_schema.validate(raw)
