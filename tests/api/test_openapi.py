"""Real responses of every endpoint, validated against /api/v1/openapi.json."""

from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.api.helpers import bearer, org_with_key
from webapp.core.models import utcnow
from webapp.extensions import db


@pytest.fixture
def spec(client):
    response = client.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    Draft202012Validator.check_schema({"$defs": document["components"]["schemas"]})
    return document


def check(spec, path, method, response):
    operation = spec["paths"][path][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {path} answered {status}, not described"
    described = operation["responses"][status]
    schema = described["content"]["application/json"]["schema"]
    registry = Registry().with_resource("urn:spec", DRAFT202012.create_resource(spec))
    schema = {"$ref": "urn:spec#" + schema["$ref"][1:]} if "$ref" in schema else schema
    Draft202012Validator(schema, registry=registry, format_checker=FormatChecker()).validate(response.json)
    for header in described.get("headers", {}):
        assert header in response.headers, f"{header} missing on {status}"


def test_every_endpoint_matches_the_description(client, ctx, spec):
    from webapp.billing.models import Service
    from webapp.billing.services import add_line_item, billing_account_for, create_draft_invoice, finalize_invoice

    _owner, org, _, plain = org_with_key(rate_limit=1000)
    _, _, _, read_only = org_with_key(scopes=("usage:read",))
    h = bearer(plain)
    now = utcnow()
    api = client.client

    event = {
        "event_id": "e1",
        "event_type": "pos.transaction",
        "quantity": 3,
        "timestamp": now.isoformat(),
        "data": {"terminal_id": "T1"},
    }
    check(spec, "/usage-events", "post", api.post("/api/v1/usage-events", json=event, headers=h))
    batch = {
        "events": [
            event,
            {**event, "event_id": "e2"},
            {**event, "event_id": "bad id"},
            {**event, "event_id": "e3", "timestamp": (now - timedelta(days=40)).isoformat()},
        ]
    }
    check(spec, "/usage-events", "post", api.post("/api/v1/usage-events", json=batch, headers=h))
    check(spec, "/usage-events", "post", api.post("/api/v1/usage-events", json={**event, "quantity": -1}, headers=h))
    check(spec, "/usage-events", "post", api.post("/api/v1/usage-events", json={"events": [event] * 1001}, headers=h))
    check(spec, "/usage-events", "post", api.post("/api/v1/usage-events", json={"events": []}, headers=h))
    check(spec, "/usage-events", "post", api.post("/api/v1/usage-events", json=event))
    check(spec, "/usage-events", "post", api.post("/api/v1/usage-events", json=event, headers=bearer(read_only)))

    check(spec, "/usage", "get", api.get("/api/v1/usage", headers=h))
    check(spec, "/usage", "get", api.get("/api/v1/usage?from=2026-13", headers=h))

    account = billing_account_for(org)
    for i in range(3):
        db.session.add(
            Service(
                organization_id=org.id,
                type="POS_TERMINAL",
                name=f"Till {i}",
                monthly_fee=1500,
                hardware_serial=f"SN{i}",
            )
        )
        invoice = create_draft_invoice(account, period_start=now, period_end=now + timedelta(days=30))
        add_line_item(invoice, f"Item {i}", 2, 1000)
        finalize_invoice(invoice, None, send_email=False)
    create_draft_invoice(account, period_start=now, period_end=now)  # a draft is never shown
    db.session.commit()

    first = api.get("/api/v1/services?limit=2", headers=h)
    check(spec, "/services", "get", first)
    assert len(first.json["data"]) == 2 and first.json["next_cursor"]
    second = api.get(f"/api/v1/services?limit=2&cursor={first.json['next_cursor']}", headers=h)
    check(spec, "/services", "get", second)
    assert len(second.json["data"]) == 1 and second.json["next_cursor"] is None
    check(spec, "/services", "get", api.get("/api/v1/services?limit=0", headers=h))

    listing = api.get("/api/v1/invoices", headers=h)
    check(spec, "/invoices", "get", listing)
    assert len(listing.json["data"]) == 3
    one = api.get(f"/api/v1/invoices/{listing.json['data'][0]['id']}", headers=h)
    check(spec, "/invoices/{invoice_id}", "get", one)
    assert one.json["lines"][0]["total"] == 2000
    check(spec, "/invoices/{invoice_id}", "get", api.get("/api/v1/invoices/999999", headers=h))
    check(spec, "/invoices", "get", api.get("/api/v1/invoices?cursor=abc", headers=h))

    _, _, _, limited = org_with_key(rate_limit=1)
    api.get("/api/v1/usage", headers=bearer(limited))
    check(spec, "/usage", "get", api.get("/api/v1/usage", headers=bearer(limited)))


def test_other_organizations_invoice_is_404(client, ctx):
    from webapp.billing.services import add_line_item, billing_account_for, create_draft_invoice, finalize_invoice

    _, other, _, _ = org_with_key()
    invoice = create_draft_invoice(billing_account_for(other), period_start=utcnow(), period_end=utcnow())
    add_line_item(invoice, "x", 1, 100)
    finalize_invoice(invoice, None, send_email=False)
    db.session.commit()
    _, _, _, plain = org_with_key()
    response = client.client.get(f"/api/v1/invoices/{invoice.id}", headers=bearer(plain))
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_docs_page_renders_the_spec_for_people(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assert "Send usage events" in page and "/api/v1/usage-events" in page and "schema-IngestResult" in page
    assert "cdn" not in page.lower() and "<script>" not in page
