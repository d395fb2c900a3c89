"""The webhooks pages: secret shown once (post-redirect-get), roles, other organizations, resend, test event."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.developers.helpers import endpoint_for
from tests.developers.receiver import verify
from tests.factories import add_member, make_org, make_user
from webapp.developers import services
from webapp.developers.catalog import TYPES
from webapp.developers.models import Event, WebhookDelivery, WebhookEndpoint
from webapp.extensions import db

SECRET = re.compile(r'id="webhook-secret-value">(whsec_[A-Za-z0-9_\-]+)<')


def _owner_org(client, email="owner@pages.example"):
    owner = make_user(email)
    org = make_org(owner, "Pages Co", "pages-co")
    client.login(email)
    return owner, org


def _create(client, org, url, types=("invoice.paid", "payment.failed"), ordered=True):
    data = {"url": url, "event_types": list(types), "description": "ERP"}
    if ordered:
        data["ordered"] = "y"
    return client.post(f"/o/{org.slug}/developers/webhooks", data)


def test_add_endpoint_shows_the_secret_once_and_reload_does_not(client, ctx, receiver, run_jobs):
    _, org = _owner_org(client)
    response = _create(client, org, receiver.url)
    assert response.status_code == 303
    location = response.headers["Location"]
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert location.endswith(f"/o/{org.slug}/developers/webhooks/{endpoint.id}")
    assert endpoint.ordered and endpoint.event_types == ["invoice.paid", "payment.failed"]
    page = client.get(location).get_data(as_text=True)
    secret = SECRET.search(page).group(1)
    assert "shown only this once" in page
    again = client.get(location).get_data(as_text=True)
    assert SECRET.search(again) is None and secret not in again
    assert secret not in client.get(f"/o/{org.slug}/developers/webhooks").get_data(as_text=True)
    assert secret[-4:] in again  # the hint only
    # the shown secret is the one that signs
    services.record_event(org.id, "invoice.paid", {"object": "invoice", "id": 5})
    db.session.commit()
    run_jobs()
    (request,) = receiver.requests
    assert verify(request["headers"]["Tessera-Signature"], request["body"], secret)


def test_rotate_shows_the_new_secret_once(client, ctx):
    owner, org = _owner_org(client)
    endpoint, old = endpoint_for(org, owner, "https://hooks.example.com/in")
    url = f"/o/{org.slug}/developers/webhooks/{endpoint.id}"
    assert client.post(f"{url}/rotate").status_code == 303
    page = client.get(url).get_data(as_text=True)
    new = SECRET.search(page).group(1)
    assert new != old and "previous secret also signs until" in page
    assert SECRET.search(client.get(url).get_data(as_text=True)) is None


def test_invalid_endpoint_input_is_refused_with_messages(client, ctx):
    _, org = _owner_org(client)
    for url, types, message in (
        ("ftp://example.com/x", ["invoice.paid"], "http:// or https://"),
        ("https://user:pw@example.com/x", ["invoice.paid"], "Leave user names"),
        ("https://example.com/x", [], "Choose at least one event type"),
        ("https://example.com/x", ["not.a.type"], "not a valid choice"),
    ):
        response = client.post(f"/o/{org.slug}/developers/webhooks", {"url": url, "event_types": types})
        assert response.status_code == 422, url
        assert message in response.get_data(as_text=True), (url, message)
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_checkboxes_come_from_the_catalogue(client, ctx):
    _, org = _owner_org(client)
    page = client.get(f"/o/{org.slug}/developers/webhooks").get_data(as_text=True)
    for name in TYPES:
        assert f'value="{name}"' in page


def test_disable_enable_delete_and_test_event(client, ctx, receiver, run_jobs):
    owner, org = _owner_org(client)
    endpoint, secret = endpoint_for(org, owner, receiver.url, types=["invoice.paid"])
    url = f"/o/{org.slug}/developers/webhooks/{endpoint.id}"
    assert client.post(f"{url}/test").status_code == 303
    run_jobs()
    (request,) = receiver.requests
    assert receiver.events()[0]["type"] == "webhook.test"
    assert verify(request["headers"]["Tessera-Signature"], request["body"], secret)
    assert client.post(f"{url}/disable").status_code == 303
    services.record_event(org.id, "invoice.paid", {"object": "invoice", "id": 1})
    db.session.commit()
    run_jobs()
    assert len(receiver.requests) == 1  # disabled: nothing more
    page = client.get(url).get_data(as_text=True)
    assert "Disabled" in page and "Enable" in page
    assert client.post(f"{url}/enable").status_code == 303
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id).enabled
    assert client.post(f"{url}/delete").status_code == 303
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id) is None


def test_delivery_log_shows_attempts_and_resend_replays_one(client, ctx, receiver, run_jobs):
    owner, org = _owner_org(client)
    receiver.answers = [500]
    endpoint, _ = endpoint_for(org, owner, receiver.url, types=["invoice.paid"])
    event = services.record_event(org.id, "invoice.paid", {"object": "invoice", "id": 7})
    db.session.commit()
    run_jobs()
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    url = f"/o/{org.slug}/developers/webhooks/{endpoint.id}"
    log = client.get(url).get_data(as_text=True)
    assert event.public_id in log and "Pending" in log
    detail = client.get(f"{url}/deliveries/{delivery.id}").get_data(as_text=True)
    assert "HTTP 500" in detail and event.public_id in detail and "&#34;status&#34;: 500" in detail
    # a pending delivery is not resent twice at once
    assert client.post(f"{url}/deliveries/{delivery.id}/resend").status_code == 303
    assert "already waiting" in client.get(url).get_data(as_text=True)
    delivery.status = "FAILED"
    db.session.commit()
    assert client.post(f"{url}/deliveries/{delivery.id}/resend").status_code == 303
    run_jobs()
    assert [r["answered"] for r in receiver.requests] == [500, 200]
    db.session.expire_all()
    assert db.session.get(WebhookDelivery, delivery.id).status == "SUCCEEDED"
    run_jobs()
    assert len(receiver.requests) == 2  # succeeded: not sent again


def test_member_gets_403_and_another_org_404(client, ctx, make_client):
    owner, org = _owner_org(client)
    endpoint, _ = endpoint_for(org, owner, "https://hooks.example.com/in", types=["invoice.paid"])
    event = services.record_event(org.id, "invoice.paid", {"object": "invoice", "id": 1}, only_endpoint=endpoint)
    db.session.commit()
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    base = f"/o/{org.slug}/developers/webhooks"
    member = make_user("member@pages.example")
    add_member(org, member, "MEMBER")
    as_member = make_client()
    as_member.login(member.email)
    assert as_member.get(base).status_code == 403
    assert as_member.post(base, {"url": "https://x.example.com", "event_types": ["invoice.paid"]}).status_code == 403
    assert as_member.get(f"{base}/{endpoint.id}").status_code == 403
    assert as_member.post(f"{base}/{endpoint.id}/rotate").status_code == 403

    stranger = make_user("stranger@pages.example")
    theirs = make_org(stranger, "Their Co", "their-co")
    as_stranger = make_client()
    as_stranger.login(stranger.email)
    own = f"/o/{theirs.slug}/developers/webhooks"
    assert as_stranger.get(base).status_code == 404
    for path in (f"{own}/{endpoint.id}", f"{own}/{endpoint.id}/deliveries/{delivery.id}"):
        assert as_stranger.get(path).status_code == 404, path
    for path in ("rotate", "disable", "test", "delete", f"deliveries/{delivery.id}/resend"):
        assert as_stranger.post(f"{own}/{endpoint.id}/{path}").status_code == 404, path
    # their own endpoint with our delivery id: still 404
    mine, _ = endpoint_for(theirs, stranger, "https://hooks.example.com/theirs", types=["invoice.paid"])
    assert as_stranger.get(f"{own}/{mine.id}/deliveries/{delivery.id}").status_code == 404
    db.session.expire_all()
    kept = db.session.get(WebhookEndpoint, endpoint.id)
    assert kept is not None and kept.enabled and db.session.get(Event, event.id) is not None


def test_admin_may_manage_endpoints(client, ctx, make_client):
    _, org = _owner_org(client)
    admin = make_user("admin@pages.example")
    add_member(org, admin, "ADMIN")
    as_admin = make_client()
    as_admin.login(admin.email)
    assert _create(as_admin, org, "https://hooks.example.com/admin").status_code == 303
