"""Tenancy sweep: one webhook endpoint with one delivery in ``org``."""

from webapp.developers import services
from webapp.developers.models import WebhookDelivery
from webapp.extensions import db


def _endpoint(org, user) -> int:
    endpoint, _ = services.create_endpoint(org, user, "https://hooks.example.com/tessera", ["invoice.paid"])
    db.session.commit()
    return endpoint.id


def _delivery(org, user) -> int:
    endpoint_id = _endpoint(org, user)
    endpoint = db.session.get(services.WebhookEndpoint, endpoint_id)
    event = services.record_event(org.id, "invoice.paid", {"object": "invoice", "id": 1}, only_endpoint=endpoint)
    db.session.commit()
    return db.session.scalar(services.select(WebhookDelivery.id).where(WebhookDelivery.event_id == event.id))


SAMPLES = {"endpoint_id": _endpoint, "delivery_id": _delivery}
