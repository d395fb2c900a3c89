"""Paynow: web checkout (Visa, Mastercard, Paynow's page) and mobile express (EcoCash, OneMoney,
InnBucks), confirmed by polling; the result-URL callback is checked, recorded and answered at once,
and a job polls Paynow and applies the payment (exactly once, however many callbacks arrive).

Paynow has no refund API: a refund is made in Paynow's merchant console (or by hand) and recorded
here with its reference. Paynow's published express protocol charges a card *token* (``method=vmc``,
``token``, ``merchanttrace``) but documents neither how a token is first obtained nor any card
details to show (brand, last four, expiry), so saved cards are Stripe's only (docs/billing.md).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale

from webapp.audit import record
from webapp.billing.models import PAY_CANCELLED, PAY_FAILED, PAY_PAID, PAY_PENDING, PAY_REFUNDED, Invoice, Payment
from webapp.billing.providers import (
    Checkout,
    PaymentProvider,
    PaymentProviderError,
    PaymentRef,
    register,
)
from webapp.billing.services import settle_payment, start_provider_payment
from webapp.core.display import provider_sentence
from webapp.core.errors import DomainError
from webapp.core.models import get_existing
from webapp.extensions import db
from webapp.integrations.providers.client import ProviderError
from webapp.integrations.providers.paynow import (
    CANCELLED_STATUSES,
    EXPRESS_METHODS,
    FAILED_STATUSES,
    PAID_STATUSES,
    REFUNDED_STATUSES,
    PaynowClient,
    PaynowError,
    verify_hash,
)

WEB_METHODS = ("PAYNOW_WEB", "PAYNOW_VISA", "PAYNOW_MASTERCARD")


class PaynowProvider(PaymentProvider):
    name = "paynow"
    label = "Paynow"
    methods = (*WEB_METHODS, *EXPRESS_METHODS)
    refunds = "manual"

    def begin(self, invoice: Invoice, method: str, phone: str | None = None, **_) -> Payment:
        if method not in self.methods:
            raise DomainError("Choose a way to pay.", field="method")
        if method in EXPRESS_METHODS:
            phone = normalize_phone(phone)
        reference = f"{invoice.number}-{secrets.token_hex(4).upper()}"
        return start_provider_payment(invoice, provider=self.name, method=method, reference=reference, phone=phone)

    def send(self, payment: Payment, *, return_url: str, cancel_url: str | None = None) -> Checkout:
        """Ask Paynow to collect (after ``begin`` was committed)."""
        from flask import url_for

        invoice = payment.invoice
        if invoice is None:
            raise PaymentProviderError("This payment is for no invoice; there is nothing to collect.")
        client = PaynowClient(org_id=payment.organization_id)
        common = dict(
            reference=payment.external_reference,
            amount_cents=payment.amount,
            additional_info=f"Invoice {invoice.number}",
            return_url=return_url,
            result_url=url_for("billing_public.paynow_webhook", _external=True),
            auth_email=current_app.config.get("PAYNOW_AUTH_EMAIL") or invoice.organization.email,
        )
        try:
            if payment.method in EXPRESS_METHODS:
                result = client.remote(**common, phone=payment.phone, method=EXPRESS_METHODS[payment.method])
            else:
                result = client.initiate(**common)
        except ProviderError as error:
            # The payer reads a sentence; the exception, status and body stay in the call log (/admin/calls).
            with force_locale("en"):  # stored in English, as staff read it; the payer reads their own language
                stored = provider_sentence("paynow", error.kind, payment=True)
            settle_payment(payment, PAY_FAILED, external_status="Error", error=stored)
            raise PaymentProviderError(provider_sentence("paynow", error.kind, payment=True)) from None
        except PaynowError as error:  # Paynow's own refusal, in its words
            settle_payment(payment, PAY_FAILED, external_status="Error", error=str(error)[:500])
            raise PaymentProviderError(f"Paynow could not start the payment: {error}") from None
        payment.poll_url = result.poll_url
        payment.instructions = result.instructions
        payment.external_status = "Sent" if result.instructions else "Created"
        return Checkout(payment, result.browser_url, result.instructions)

    def check(self, ref: PaymentRef):
        """Ask Paynow for the payment's status (no database work: callers hold no transaction open)."""
        if not ref.poll_url:
            return None
        status = PaynowClient(org_id=ref.organization_id).poll(ref.poll_url)
        if status.reference and status.reference != ref.external_reference:
            raise PaynowError("Paynow answered for another reference.")
        return status

    def apply_check(self, payment: Payment, status) -> bool:
        return apply_checked(payment, status)


PROVIDER = register(PaynowProvider())


def normalize_phone(phone: str | None) -> str:
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if digits.startswith("263") and len(digits) == 12:
        digits = "0" + digits[3:]
    if len(digits) != 10 or not digits.startswith("07"):
        raise DomainError("Enter a mobile number like 0771234567.", field="phone")
    return digits


def apply_status(payment: Payment, provider_status: str, amount: int | None = None) -> bool:
    word = (provider_status or "").strip().lower()
    if word in PAID_STATUSES:
        if amount is not None and amount != payment.amount:
            record(None, "payment.amount_mismatch", payment, {"expected": payment.amount, "reported": amount})
            return settle_payment(payment, PAY_FAILED, external_status=provider_status, error="amount mismatch")
        return settle_payment(payment, PAY_PAID, external_status=provider_status)
    if word in CANCELLED_STATUSES:
        return settle_payment(payment, PAY_CANCELLED, external_status=provider_status, error="cancelled")
    if word in FAILED_STATUSES:
        return settle_payment(payment, PAY_FAILED, external_status=provider_status, error=provider_status)
    if word in REFUNDED_STATUSES:
        return settle_payment(payment, PAY_REFUNDED, external_status=provider_status)
    if payment.status == PAY_PENDING and provider_status and payment.external_status != provider_status:
        payment.external_status = provider_status[:40]
    return False


def apply_checked(payment: Payment, status) -> bool:
    if status.paynow_reference and not payment.provider_reference:
        payment.provider_reference = status.paynow_reference[:120]
    return apply_status(payment, status.status, status.amount)


class CallbackRefused(DomainError):
    status = 400


@dataclass(frozen=True)
class Callback:
    """A result-URL callback whose hash checked out: its event id (identical callbacks are one
    event), type, payload and the payment reference it is about."""

    event_id: str
    type: str
    payload: dict
    reference: str


def verified_callback(fields: list[tuple[str, str]], key: str) -> Callback:
    """Check a result-URL callback's hash (pure: also used on the event loop by webapp.billing.receiver)."""
    if not verify_hash(fields, key):
        raise CallbackRefused("bad hash", code="bad_hash")
    data = {k.lower(): v for k, v in fields}
    digest = hashlib.sha256("&".join(f"{k}={v}" for k, v in fields).encode()).hexdigest()
    status = data.get("status", "").lower() or "unknown"
    return Callback(digest, f"status.{status}", data, data.get("reference", ""))


def record_paynow_callback(fields: list[tuple[str, str]]) -> str:
    """The result-URL callback: check the hash and record the callback once, for a payment of ours
    (a repeat costs one INSERT … ON CONFLICT DO NOTHING and is answered at once; an unknown
    reference keeps nothing and answers 404). The confirmation, a poll of Paynow, is a job's."""
    from webapp.billing.services.provider_events import record_event

    callback = verified_callback(fields, current_app.config["PAYNOW_INTEGRATION_KEY"])
    record_event("paynow", callback.event_id, callback.type, callback.payload, payment_reference=callback.reference)
    return "ok"


def confirm_payment(payment_id: int) -> bool:
    """The callback's job: poll Paynow (the only status we trust) and apply it."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.provider != "paynow":
        return False
    if payment.status == PAY_PENDING:
        from webapp.billing.providers import refresh_payment

        return refresh_payment(payment)
    if payment.status == PAY_PAID and payment.poll_url:  # a Refunded callback: confirm it the same way
        ref = PaymentRef.of(payment)
        status = PROVIDER.check(ref)
        if status is not None and status.normalized in REFUNDED_STATUSES:
            return apply_checked(get_existing(Payment, ref.id), status)
    return False


__all__ = ["PROVIDER", "PaymentProviderError", "PaynowError", "ProviderError", "confirm_payment"]


def _handle_callback(event) -> bool:
    payment = db.session.get(Payment, event.payment_id) if event.payment_id is not None else None
    if payment is None or payment.provider != "paynow":
        return False
    if payment.poll_url is None:
        # The callback can beat our own bookkeeping; take Paynow's poll URL only on Paynow's host.
        poll_url = str(event.payload.get("pollurl", ""))
        if not poll_url.startswith(current_app.config["PAYNOW_BASE_URL"] + "/"):
            raise DomainError("The callback's poll URL is not on Paynow's host; it was not used.")
        payment.poll_url = poll_url
    return confirm_payment(payment.id)


def _register_handler() -> None:
    from webapp.billing.services.provider_events import EVENT_HANDLERS

    EVENT_HANDLERS["paynow"] = _handle_callback


_register_handler()
