"""Stripe's webhook: the signature is checked by the library (wrong or older than five minutes:
refused), then the event is recorded once per id; ``handle_provider_event`` does the work."""

from __future__ import annotations

from webapp.billing.services.provider_events import record_event
from webapp.core.errors import DomainError
from webapp.integrations.providers.stripe import SignatureVerificationError, verified_event

SIGNATURE_TOLERANCE_SECONDS = 300


class BadSignature(DomainError):
    code = "bad_signature"
    status = 400


def receive_stripe_webhook(payload: bytes, signature: str | None) -> bool:
    """True when the event is new (and its job queued), False for a repeated delivery."""
    try:
        event = verified_event(payload, signature, SIGNATURE_TOLERANCE_SECONDS)
    except SignatureVerificationError:
        raise BadSignature("The Stripe-Signature header does not match this payload, or it is too old.") from None
    except ValueError:
        raise BadSignature("That is not a Stripe event.") from None
    return record_event("stripe", str(event["id"]), str(event["type"]), event)
