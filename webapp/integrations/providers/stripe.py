"""Stripe through the official ``stripe`` library, whose HTTP goes through our provider client.

``stripe_client(org_id)`` is a ``stripe.StripeClient`` pointed at ``STRIPE_API_BASE`` (the built-in
sandbox in development and tests, ``https://api.stripe.com`` in production) with ``STRIPE_SECRET_KEY``.
Its HTTP client is ``LoggedHTTPClient``: every request the library makes, retries included, is sent
by ``ProviderClient`` and lands in the outbound-call log (endpoint, status, Stripe's ``Request-Id``,
duration; never the key or the body). Webhook signatures are checked by the library too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import stripe
from flask import current_app

from webapp.integrations.providers.client import ProviderClient, ProviderError

_ID_SEGMENT = re.compile(r"^[a-z]+_(?=.*[A-Z0-9])[A-Za-z0-9_]+$")  # pi_3Mt…, cus_Nf…; not payment_intents


def call_action(method: str, url: str) -> str:
    """``post payment_intents/:id/confirm``: the call-log action, without ids or the query string."""
    path = url.split("?", 1)[0].split("/v1/", 1)[-1]
    parts = [":id" if _ID_SEGMENT.match(part) else part for part in path.split("/")]
    return f"{method.lower()} {'/'.join(parts)}"[:64]


class LoggedHTTPClient(stripe.HTTPClient):
    """The library's HTTP transport, implemented by our provider client (one log row per attempt)."""

    name = "tessera"

    def __init__(self, org_id: int | None = None):
        super().__init__()
        self.org_id = org_id

    def request(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None, **_):
        content = post_data.encode() if isinstance(post_data, str) else post_data
        try:
            with ProviderClient("stripe", org_id=self.org_id, max_retries=0) as http:
                response = http.request(
                    call_action(method, url),
                    method.upper(),
                    url,
                    headers=dict(headers or {}),
                    content=content,
                    retry=False,  # the library retries itself, with its idempotency key
                    raise_for_status=False,
                )
        except ProviderError as error:
            raise stripe.APIConnectionError(str(error), should_retry=True) from None
        return response.content, response.status_code, response.headers

    def request_stream(self, method, url, headers, post_data=None, **_):
        # The library's HTTP client interface requires this method; only streaming endpoints (file
        # downloads, which Tessera never calls) use it, so a call here is a programming error.
        raise NotImplementedError("Tessera does not stream from Stripe")

    def close(self) -> None:
        return None


def stripe_client(org_id: int | None = None) -> stripe.StripeClient:
    config = current_app.config
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"] or "sk_missing",
        base_addresses={"api": config["STRIPE_API_BASE"]},
        http_client=LoggedHTTPClient(org_id),
        max_network_retries=2,
    )


def stripe_configured() -> bool:
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def verified_event(payload: bytes, signature: str | None, tolerance: int = 300) -> dict:
    """The event of a webhook whose ``Stripe-Signature`` the library accepts (else SignatureVerificationError)."""
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:
        raise stripe.SignatureVerificationError("No webhook secret is configured.", signature)
    text = payload.decode("utf-8")
    stripe.WebhookSignature.verify_header(text, signature or "", secret, tolerance)
    event = json.loads(text)
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise ValueError("not a Stripe event")
    return event


StripeError = stripe.StripeError
CardError = stripe.CardError
SignatureVerificationError = stripe.SignatureVerificationError

__all__ = [
    "CardError",
    "LoggedHTTPClient",
    "SignatureVerificationError",
    "StripeError",
    "stripe_client",
    "stripe_configured",
    "verified_event",
]
