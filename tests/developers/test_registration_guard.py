"""Registering a webhook endpoint vets its address with the guarded client's own check: internal,
reserved and metadata addresses are refused on the form (nothing stored), an allow-listed internal
host is accepted, and a name that does not resolve today is accepted (each send vets it again)."""

import pytest
from flask import g
from sqlalchemy import select

from tests.factories import make_org, make_user
from tests.outbound_helpers import allow_internal_hosts
from webapp.core.errors import DomainError
from webapp.developers import services
from webapp.developers.models import WebhookEndpoint
from webapp.extensions import db

INTERNAL = [
    "http://127.0.0.1/hooks",
    "http://localhost:8080/hooks",
    "http://10.0.0.5/hooks",
    "http://172.16.3.4/hooks",
    "http://192.168.1.1/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hooks",
    "http://0.0.0.0/hooks",
    "http://[::1]/hooks",
    "http://[fd00:ec2::254]/hooks",
    "http://[fe80::1]/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
    "http://[64:ff9b::a9fe:a9fe]/hooks",
    "http://2130706433/hooks",
    "http://0x7f.1/hooks",
    "http://017700000001/hooks",
]


def _owner_org(client):
    owner = make_user()
    org = make_org(owner)
    client.login(owner.email)
    return owner, org


def _create(client, org, url):
    return client.post(f"/o/{org.slug}/developers/webhooks", {"url": url, "event_types": ["invoice.paid"]})


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused_at_registration_on_the_form(client, ctx, url):
    _, org = _owner_org(client)
    response = _create(client, org, url)
    assert response.status_code == 422, url
    text = response.get_data(as_text=True)
    assert "is not reachable from Tessera (internal or reserved addresses are refused)" in text, url
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_public_address_and_unresolvable_name_are_accepted(client, ctx):
    _, org = _owner_org(client)
    assert _create(client, org, "https://93.184.216.34/hooks").status_code == 303
    assert _create(client, org, "https://hooks.example.invalid/tessera").status_code == 303
    assert len(db.session.scalars(select(WebhookEndpoint)).all()) == 2


def test_an_allow_listed_internal_host_is_accepted(app, client, ctx):
    allow_internal_hosts(app, "127.0.0.1")
    g.pop("tessera_settings", None)
    _, org = _owner_org(client)
    assert _create(client, org, "http://127.0.0.1:9/hooks").status_code == 303
    assert _create(client, org, "http://10.0.0.5/hooks").status_code == 422  # only what the list names


def test_editing_an_endpoint_to_an_internal_address_is_refused(client, ctx):
    owner, org = _owner_org(client)
    endpoint, _ = services.create_endpoint(org, owner, "https://hooks.example.com/in", ["invoice.paid"])
    db.session.commit()
    response = client.post(
        f"/o/{org.slug}/developers/webhooks/{endpoint.id}",
        {"url": "http://169.254.169.254/", "event_types": ["invoice.paid"]},
    )
    assert response.status_code == 303  # the endpoint page's edit form answers with a flash on the page
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The address 169.254.169.254 is not reachable from Tessera" in page
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id).url == "https://hooks.example.com/in"


def test_the_refusal_has_a_stable_code(ctx):
    owner = make_user()
    org = make_org(owner)
    with pytest.raises(DomainError) as refused:
        services.create_endpoint(org, owner, "http://[::1]:5000/x", ["invoice.paid"])
    assert refused.value.code == "url_internal" and refused.value.field == "url"
