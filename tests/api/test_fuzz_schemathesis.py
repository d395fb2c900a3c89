"""Schemathesis drives every operation of /api/v1/openapi.json against the app (WSGI) with a real key
and all of its checks: no server error, no response outside the document, invalid input refused,
valid input accepted, 405 with Allow for a method the document does not list.

Bounded for CI: ``FUZZ_EXAMPLES`` examples per operation and generation mode (a Hypothesis setting).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.factories import make_org, make_user
from webapp.api import services as api_keys
from webapp.api.models import SCOPES
from webapp.api.openapi import spec
from webapp.extensions import db

FUZZ_EXAMPLES = int(os.environ.get("TESSERA_FUZZ_EXAMPLES", "40"))


class BearerKey:
    """The test's API key as schemathesis' auth, so it knows which cases go without it on purpose."""

    plain = ""

    def get(self, case, context):
        return self.plain

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def api_key(app):
    with app.app_context():
        owner = make_user("fuzz@example.com")
        org = make_org(owner, "Fuzz Co", "fuzz-co")
        _, plain = api_keys.create_key(org, owner, "fuzz", list(SCOPES), 1_000_000, None)
        db.session.commit()
        db.session.remove()
    BearerKey.plain = plain
    return plain


# The document is built from the same code the app serves it with (GET /api/v1/openapi.json is compared
# with it in tests/api); the calls go to the app itself through WSGI.
schema = schemathesis.openapi.from_dict(spec())
# Invalid input may also be refused as too large (a batch over 1,000 events is 413 batch_too_large, as documented).
schema.config.checks.negative_data_rejection.expected_statuses.append("413")


# Rules the operation descriptions state but JSON Schema cannot (across parameters, or against the clock).
# A schema-valid request refused by one of these is right; refused for anything else, it is a failure.
STATED_EVENT_CODES = {"timestamp_too_old", "timestamp_in_future", "period_closed", "data_too_large"}


def _refused_by_a_stated_rule(case, body: dict) -> bool:
    error = body.get("error") or {}
    if error.get("code") in ("invalid_characters", "json_too_deep"):  # the boundary's rules, for every operation
        return True
    if case.operation.label == "GET /usage":  # to before from, or more than 24 months at once
        return error.get("code") == "invalid_parameter" and (
            "24 months" in error.get("message", "") or "before from" in error.get("message", "")
        )
    if case.operation.label == "POST /usage-events":  # a timestamp outside the window, data over 4 KB
        rejected = (error.get("details") or {}).get("rejected") or [{}]
        return error.get("code") == "validation_failed" and rejected[0].get("code") in STATED_EVENT_CODES
    return False


def valid_input_is_accepted(ctx, response, case):
    """Schemathesis' positive_data_acceptance, less the rules above."""
    if case.meta is None or not case.meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        body = response.json()
    except ValueError:
        body = {}
    assert _refused_by_a_stated_rule(case, body), f"a schema-valid request was refused: {response.text[:500]}"
    return None


schemathesis.check(valid_input_is_accepted)
schema.auth()(BearerKey)


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_holds_to_the_document(case, app, api_key):
    case.operation.schema.app = app  # every call, the checks' own probes included, goes to the app through WSGI
    case.call_and_validate(app=app, excluded_checks=[positive_data_acceptance])


def test_the_served_document_is_the_one_fuzzed(client):
    assert client.get("/api/v1/openapi.json").json == spec()
