"""Demo: Harare Retail's ERP listens on a webhook endpoint, with a few deliveries in its log.

The endpoint's host is a reserved example name, so nothing could be sent to it: the attempts are
written here as recorded attempts of real events (signed as a send would sign them), and each
attempt's response excerpt says it is demo data. "Send test event" on the page makes a real attempt.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from webapp.demo import step
from webapp.developers import services
from webapp.developers.models import SUCCEEDED, Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webapp.extensions import db
from webapp.orgs.demo import demo_org, demo_user

URL = "https://erp.harare-retail.example/tessera/webhooks"
TYPES = ["invoice.finalized", "invoice.paid", "payment.succeeded", "subscription.updated", "subscription.created"]
LABEL = "(demo data: a recorded attempt, not sent over the network)"


@step(order=95)  # last: the events other steps emit stay out of its seeded log
def webhook_endpoint_with_deliveries() -> None:
    org = demo_org("harare-retail")
    if org is None:
        return
    if db.session.scalar(select(WebhookEndpoint.id).where(WebhookEndpoint.organization_id == org.id)):
        return
    owner = demo_user("owner@harare-retail.example", "")
    endpoint, _secret = services.create_endpoint(org, owner, URL, TYPES, ordered=True, description="ERP ledger sync")
    events = list(
        db.session.scalars(
            select(Event)
            .where(Event.organization_id == org.id, Event.type.in_(TYPES), Event.is_test.is_(False))
            .order_by(Event.id.desc())
            .limit(4)
        )
    )
    if not events:
        events = [services.record_event(org.id, "subscription.updated", {"object": "subscription", "org": org.slug})]
    for index, event in enumerate(reversed(events)):
        _recorded_delivery(endpoint, event, failed_first=index == 0)


def _recorded_delivery(endpoint: WebhookEndpoint, event: Event, *, failed_first: bool) -> None:
    body = services.event_body(event)
    sent_at = event.created_at + timedelta(seconds=2)
    delivery = WebhookDelivery(
        organization_id=endpoint.organization_id,
        endpoint_id=endpoint.id,
        event_id=event.id,
        status=SUCCEEDED,
        attempts=0,
        window_started_at=event.created_at,
        created_at=event.created_at,
    )
    db.session.add(delivery)
    db.session.flush()
    answers = [(500, "Internal Server Error"), (200, "ok")] if failed_first else [(200, "ok")]
    for number, (status, text) in enumerate(answers, start=1):
        at = sent_at + timedelta(minutes=number - 1)
        timestamp = int(at.timestamp())
        db.session.add(
            WebhookAttempt(
                organization_id=endpoint.organization_id,
                delivery_id=delivery.id,
                number=number,
                request_body=body.decode(),
                signature=services.signature_header(endpoint, timestamp, body),
                response_status=status,
                response_excerpt=f"{text} {LABEL}",
                succeeded=status < 300,
                duration_ms=40 + 7 * number,
                created_at=at,
            )
        )
    delivery.attempts = len(answers)
    delivery.last_attempt_at = delivery.delivered_at = sent_at + timedelta(minutes=len(answers) - 1)
    db.session.flush()
