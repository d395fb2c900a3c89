"""GET /api/v1/events and /api/v1/events/<id>: the key's organization only, filters, cursor pages."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from jsonschema import Draft202012Validator

from tests.api.helpers import bearer, org_with_key
from webapp.api.openapi import spec
from webapp.core.models import utcnow
from webapp.developers import services
from webapp.extensions import db


def _validate(name, body):
    document = spec()
    schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    Draft202012Validator(schema).validate(body)


def _event(org, type_="invoice.paid", n=0):
    event = services.record_event(org.id, type_, {"object": "invoice", "id": n})
    db.session.commit()
    return event


def test_list_filters_and_pages_the_keys_organization_only(client, ctx):
    _, org, _, plain = org_with_key(scopes=("events:read",))
    _, other, _, other_plain = org_with_key(scopes=("events:read",))
    base = utcnow()
    with time_machine.travel(base - timedelta(days=2)):
        old = _event(org, "invoice.overdue", 1)
    paid = [_event(org, "invoice.paid", n) for n in range(3)]
    theirs = _event(other, "invoice.paid", 9)
    services.record_event(org.id, "webhook.test", {"object": "test"}, is_test=True)
    db.session.commit()

    body = client.get("/api/v1/events?type=invoice.paid&limit=2", headers=bearer(plain)).json
    _validate("EventList", body)
    assert [e["id"] for e in body["data"]] == [paid[2].public_id, paid[1].public_id]
    more = client.get(f"/api/v1/events?type=invoice.paid&limit=2&cursor={body['next_cursor']}", headers=bearer(plain))
    assert [e["id"] for e in more.json["data"]] == [paid[0].public_id] and more.json["next_cursor"] is None

    everything = client.get("/api/v1/events?limit=200", headers=bearer(plain)).json["data"]
    ids = {e["id"] for e in everything}
    assert old.public_id in ids and theirs.public_id not in ids
    assert all(e["type"] != "webhook.test" for e in everything)  # test events are not listed

    since = (base - timedelta(hours=1)).isoformat()
    recent = client.get("/api/v1/events", query_string={"created[gte]": since, "limit": 200}, headers=bearer(plain))
    assert old.public_id not in {e["id"] for e in recent.json["data"]}
    until = (base - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    earlier = client.get("/api/v1/events", query_string={"created[lte]": until}, headers=bearer(plain)).json["data"]
    assert [e["id"] for e in earlier] == [old.public_id]

    one = client.get(f"/api/v1/events/{paid[0].public_id}", headers=bearer(plain))
    assert one.status_code == 200
    _validate("Event", one.json)
    assert one.json["data"]["object"] == {"object": "invoice", "id": 0} and one.json["type"] == "invoice.paid"
    # another organization's event is not found, with either key
    assert client.get(f"/api/v1/events/{theirs.public_id}", headers=bearer(plain)).status_code == 404
    assert client.get(f"/api/v1/events/{paid[0].public_id}", headers=bearer(other_plain)).status_code == 404


def test_bad_filters_are_refused_and_scope_is_required(client, ctx):
    _, _, _, plain = org_with_key(scopes=("events:read",))
    _, _, _, no_scope = org_with_key(scopes=("invoices:read",))
    for query in ({"type": "nope"}, {"created[gte]": "yesterday"}, {"created[lte]": "2026-12-01"}, {"cursor": "x"}):
        response = client.get("/api/v1/events", query_string=query, headers=bearer(plain))
        assert response.status_code == 422, query
    refused = client.get("/api/v1/events", headers=bearer(no_scope))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "insufficient_scope"
    assert client.get("/api/v1/events").status_code == 401
    assert client.get("/api/v1/events/evt_000000000000000000000000", headers=bearer(plain)).status_code == 404


def test_the_document_lists_the_catalogue_and_both_operations():
    from webapp.developers.catalog import TYPES

    document = spec()
    assert document["paths"]["/events"]["get"]["operationId"] == "listEvents"
    assert document["paths"]["/events/{event_id}"]["get"]["x-scope"] == "events:read"
    assert document["components"]["schemas"]["Event"]["properties"]["type"]["enum"] == list(TYPES)


def test_the_docs_snippet_verifies_a_real_delivery(client, ctx, receiver, run_jobs):
    """The few lines of Python on /api/docs, run as a customer would, against a real signed request."""
    import html
    import re

    from tests.developers.helpers import endpoint_for
    from tests.factories import make_org, make_user

    page = client.get("/api/docs").get_data(as_text=True)
    snippet = html.unescape(re.search(r'<pre id="verify-python"><code>(.*?)</code></pre>', page, re.S).group(1))
    namespace: dict = {}
    exec(compile(snippet, "docs-snippet", "exec"), namespace)
    verify = namespace["verify"]
    owner = make_user("docs@hooks.example")
    org = make_org(owner, "Docs Co", "docs-co")
    _, secret = endpoint_for(org, owner, receiver.url)
    _event(org)
    run_jobs()
    (request,) = receiver.requests
    header, body = request["headers"]["Tessera-Signature"], request["body"]
    assert verify(header, body, secret)
    assert not verify(header, body.replace(b"invoice", b"invoicf"), secret)
    assert not verify(header, body, "whsec_wrong")
    assert not verify(header.replace("t=", "t=1"), body, secret)
    assert "invoice.finalized" in page and "ticket.replied" in page
