"""Stripe: the official library against the in-app sandbox over real HTTP, through our routes."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from tests.billing.helpers import make_invoice, org_with_owner
from tests.billing.stripe_helpers import (
    AUTHENTICATE,
    DECLINED,
    GOOD,
    fill_card,
    sandbox_webhooks,
    signed,
    wait_for_events,
)
from webapp.audit.models import AuditEntry
from webapp.billing.models import Invoice, Payment
from webapp.billing.payment_models import ProviderCustomer, ProviderEvent
from webapp.extensions import db
from webapp.integrations.models import OutboundCall
from webapp.integrations.providers.stripe import LoggedHTTPClient, stripe_client


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _start_card_checkout(client, invoice) -> str:
    response = client.post(f"/pay/{invoice.payment_token}/card")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    hosted = response.headers["Location"]
    assert "/sandbox/stripe/checkout/cs_test_" in hosted
    return hosted


def _check(client, status_url: str) -> str:
    return client.post(_path(status_url) + "/check", htmx=True).get_data(as_text=True)


def test_checkout_paid_by_card(ctx, client, run_jobs):
    org, _ = org_with_owner("shop@example.com")
    invoice = make_invoice(org, lines=((1, 10_000),))
    hosted = _start_card_checkout(client, invoice)
    page = httpx.get(hosted)
    assert "Pay 115.00 USD" in page.text and "sandbox" in page.text
    done = fill_card(hosted, GOOD)
    assert done.status_code == 303
    status_url = done.headers["location"]
    assert f"/pay/{invoice.payment_token}/payments/" in status_url
    assert "Thank you" in _check(client, status_url)
    db.session.expire_all()
    payment = db.session.scalar(select(Payment).where(Payment.invoice_id == invoice.id))
    assert payment.provider == "stripe" and payment.method == "STRIPE_CARD" and payment.status == "PAID"
    assert payment.external_reference.startswith("cs_test_") and payment.provider_reference.startswith("pi_")
    assert db.session.get(Invoice, invoice.id).status == "PAID"
    customer = db.session.scalar(select(ProviderCustomer.customer_id))
    assert customer.startswith("cus_")
    # every library call went through the provider client into the call log, Stripe's request id kept
    calls = db.session.execute(
        select(OutboundCall.action, OutboundCall.provider_request_id, OutboundCall.success)
    ).all()
    assert ("post customers", True) in {(a, ok) for a, _, ok in calls}
    assert {"post checkout/sessions", "get checkout/sessions/:id"} <= {a for a, _, _ in calls}
    assert all(request_id and request_id.startswith("req_") for _, request_id, _ in calls)
    # the webhooks that follow (payment_intent.succeeded, checkout.session.completed) change nothing more
    wait_for_events("checkout.session.completed", "payment_intent.succeeded")
    run_jobs()
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).amount_paid == 11_500
    received = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "payment.received")
    assert db.session.scalar(received) == 1


def test_checkout_declined_card_leaves_the_invoice_open(ctx, client, run_jobs):
    org, _ = org_with_owner()
    invoice = make_invoice(org)
    hosted = _start_card_checkout(client, invoice)
    declined = fill_card(hosted, DECLINED)
    assert declined.status_code == 402 and "Your card was declined." in declined.text
    wait_for_events("payment_intent.payment_failed")
    run_jobs()
    db.session.expire_all()
    payment = db.session.scalar(select(Payment))
    # the payer is still on Stripe's page and may try another card: the payment waits, with the reason
    assert payment.status == "PENDING" and payment.external_status == "generic_decline"
    assert payment.error_message == "Your card was declined."
    assert db.session.get(Invoice, invoice.id).status == "ISSUED"
    status_url = f"/pay/{invoice.payment_token}/payments/{payment.id}"
    assert "Your card was declined." in client.get(status_url).get_data(as_text=True)
    paid = fill_card(hosted, GOOD)
    assert paid.status_code == 303
    assert "Thank you" in _check(client, paid.headers["location"])
    assert db.session.get(Invoice, invoice.id).status == "PAID"


def test_checkout_with_a_card_that_asks_to_authenticate(ctx, client):
    org, _ = org_with_owner()
    invoice = make_invoice(org)
    hosted = _start_card_checkout(client, invoice)
    asked = fill_card(hosted, AUTHENTICATE)
    assert asked.status_code == 303 and "/sandbox/stripe/authenticate/pi_" in asked.headers["location"]
    page = httpx.get(asked.headers["location"])
    assert "Complete authentication" in page.text
    failed = httpx.post(asked.headers["location"], data={"action": "fail"})
    assert failed.status_code == 303 and failed.headers["location"] == hosted  # back on the card page
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "ISSUED"
    again = fill_card(hosted, AUTHENTICATE)
    done = httpx.post(again.headers["location"], data={"action": "complete"})
    assert done.status_code == 303 and f"/pay/{invoice.payment_token}/payments/" in done.headers["location"]
    assert "Thank you" in _check(client, done.headers["location"])
    assert db.session.get(Invoice, invoice.id).status == "PAID"


def _a_real_event(ctx, client) -> dict:
    """A checkout.session.completed the sandbox made (its delivery switched off, so none arrived)."""
    org, _ = org_with_owner()
    invoice = make_invoice(org)
    sandbox_webhooks(ctx.app, enabled=False)
    try:
        hosted = _start_card_checkout(client, invoice)
        assert fill_card(hosted, GOOD).status_code == 303
    finally:
        sandbox_webhooks(ctx.app, enabled=True)
    events = stripe_client().v1.events.list(params={"type": "checkout.session.completed", "limit": 1})
    return events.data[0].to_dict()


def test_webhook_signature_is_refused_when_wrong_or_stale(ctx, client, live_server):
    event = _a_real_event(ctx, client)
    secret = ctx.app.config["STRIPE_WEBHOOK_SECRET"]
    url = f"{live_server}/webhooks/stripe"
    payload, headers = signed(event, "whsec_someone_else")
    assert httpx.post(url, content=payload, headers=headers).status_code == 400
    payload, headers = signed(event, secret, timestamp=int(time.time()) - 600)  # ten minutes old
    assert httpx.post(url, content=payload, headers=headers).status_code == 400
    payload, headers = signed(event, secret)
    tampered = payload.replace('"paid"', '"unpaid"')
    assert httpx.post(url, content=tampered, headers=headers).status_code == 400
    assert httpx.post(url, content=payload, headers={"Content-Type": "application/json"}).status_code == 400
    recorded = select(func.count()).select_from(ProviderEvent).where(ProviderEvent.event_id == event["id"])
    assert db.session.scalar(recorded) == 0
    answer = httpx.post(url, content=payload, headers=headers)
    assert answer.status_code == 200 and answer.json() == {"received": True, "duplicate": False}
    assert db.session.scalar(recorded) == 1


@pytest.mark.postgres
def test_the_same_webhook_delivered_twenty_times_at_once_applies_once(ctx, client, live_server, run_jobs):
    event = _a_real_event(ctx, client)
    payload, headers = signed(event, ctx.app.config["STRIPE_WEBHOOK_SECRET"])
    db.session.remove()
    barrier = threading.Barrier(20)
    answers = []

    def deliver():
        barrier.wait()
        response = httpx.post(f"{live_server}/webhooks/stripe", content=payload, headers=headers, timeout=30)
        answers.append((response.status_code, response.json().get("duplicate")))

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [code for code, _ in answers] == [200] * 20
    assert sorted(duplicate for _, duplicate in answers) == [False] + [True] * 19
    run_jobs()
    db.session.expire_all()
    events = db.session.scalars(select(ProviderEvent).where(ProviderEvent.event_id == event["id"])).all()
    assert len(events) == 1 and events[0].status == "PROCESSED"
    invoice = db.session.scalar(select(Invoice))
    assert invoice.status == "PAID" and invoice.amount_paid == invoice.total
    assert db.session.scalar(select(func.count()).select_from(Payment).where(Payment.status == "PAID")) == 1
    received = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "payment.received")
    assert db.session.scalar(received) == 1


def test_the_library_errors_and_idempotency_of_the_sandbox(ctx):
    client = stripe_client()
    customer = client.v1.customers.create(params={"email": "a@example.com"})
    params = {
        "amount": 1000,
        "currency": "usd",
        "customer": customer.id,
        "payment_method": "pm_card_visa",
        "confirm": True,
    }
    first = client.v1.payment_intents.create(params=params, options={"idempotency_key": "k-1"})
    again = client.v1.payment_intents.create(params=params, options={"idempotency_key": "k-1"})
    assert first.id == again.id and first.status == "succeeded"
    with pytest.raises(Exception, match="same parameters"):
        client.v1.payment_intents.create(params={**params, "amount": 2000}, options={"idempotency_key": "k-1"})
    import stripe

    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(params={**params, "payment_method": "pm_card_chargeDeclined"})
    assert declined.value.code == "card_declined" and declined.value.http_status == 402
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.retrieve("pi_doesnotexist1")
    assert missing.value.code == "resource_missing" and missing.value.http_status == 404
    stranger = stripe.StripeClient(
        "sk_test_someone_elses_key",
        base_addresses={"api": ctx.app.config["STRIPE_API_BASE"]},
        http_client=LoggedHTTPClient(),
    )
    with pytest.raises(stripe.AuthenticationError):
        stranger.v1.customers.create(params={})
