"""Driving the Stripe sandbox as the payer would: its hosted pages over HTTP, its signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
from sqlalchemy import select

from webapp.billing.payment_models import PaymentMethod, ProviderEvent
from webapp.extensions import db

GOOD, DECLINED, AUTHENTICATE, FAILS_LATER = (
    "4242 4242 4242 4242",
    "4000 0000 0000 0002",
    "4000 0025 0000 3155",
    "4000 0000 0000 0341",
)


def fill_card(page_url: str, number: str, expiry: str = "12/40", cvc: str = "123") -> httpx.Response:
    """Type a card on the sandbox's hosted page (checkout or card setup)."""
    return httpx.post(page_url, data={"card_number": number, "expiry": expiry, "cvc": cvc})


def save_card(client, org, number: str = GOOD, expiry: str = "12/40") -> PaymentMethod:
    """Through our pages and Stripe's hosted setup page, as a customer saves a card."""
    start = client.post(f"/o/{org.slug}/billing/payment-methods/new")
    assert start.status_code == 303, start.get_data(as_text=True)[:500]
    hosted = start.headers["Location"]
    assert "/sandbox/stripe/checkout/cs_" in hosted
    back = fill_card(hosted, number, expiry)
    if "/authenticate/" in back.headers.get("location", ""):
        back = httpx.post(back.headers["location"], data={"action": "complete"})
    assert back.status_code == 303, back.text[:500]
    landing = back.headers["location"]
    assert "/billing/payment-methods/added?session_id=cs_" in landing
    session_id = landing.split("session_id=")[1]
    done = client.post(f"/o/{org.slug}/billing/payment-methods/added", {"session_id": session_id})
    assert done.status_code == 303 and done.headers["Location"].endswith("/billing/payment-methods"), done.headers
    db.session.expire_all()
    return db.session.scalars(select(PaymentMethod).order_by(PaymentMethod.id.desc())).first()


def wait_for_events(*types: str, seconds: float = 8.0) -> list[ProviderEvent]:
    """The sandbox posts its webhooks a moment later: wait until each type was recorded."""
    deadline = time.monotonic() + seconds
    while True:
        db.session.expire_all()
        events = db.session.scalars(select(ProviderEvent).where(ProviderEvent.provider == "stripe")).all()
        if all(any(e.type == t for e in events) for t in types) or time.monotonic() > deadline:
            return events
        time.sleep(0.1)


def signed(event: dict, secret: str, timestamp: int | None = None) -> tuple[str, dict]:
    payload = json.dumps(event)
    return payload, {
        "Content-Type": "application/json",
        "Stripe-Signature": signature_header(payload, secret, timestamp),
    }


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """As Stripe documents it: ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>">``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def sandbox_webhooks(app, enabled: bool) -> None:
    """Switch the Stripe sandbox's webhook deliveries (a test-mode control of the sandbox process)."""
    response = httpx.post(
        f"{app.config['STRIPE_API_BASE']}/_test/webhooks",
        data={"enabled": "true" if enabled else "false"},
        headers={"Authorization": f"Bearer {app.config['STRIPE_SECRET_KEY']}"},
    )
    response.raise_for_status()
