"""Paying an invoice through a provider: the provider registry (Paynow now; Stripe plugs in here
later with the same three operations), starting a payment, and confirming it by polling.

Provider calls happen between commits: the PENDING payment is committed before Paynow is asked,
so a result-URL callback that arrives first finds it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app, url_for
from sqlalchemy import select

from webapp.audit import record
from webapp.billing.models import PAY_CANCELLED, PAY_FAILED, PAY_PAID, PAY_PENDING, PAY_REFUNDED, Invoice, Payment
from webapp.billing.services import settle_payment, start_provider_payment
from webapp.core.errors import DomainError
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


class PaymentProviderError(DomainError):
    code = "payment_provider_error"
    status = 502


@dataclass
class Checkout:
    payment: Payment
    redirect_url: str | None = None  # web checkout: send the browser here
    instructions: str | None = None  # express: tell the customer what to do on the phone


@dataclass(frozen=True)
class PaymentRef:
    """What a status check needs, read before the transaction ends (so nothing lazy-loads later)."""

    id: int
    poll_url: str | None
    external_reference: str | None
    organization_id: int

    @classmethod
    def of(cls, payment: Payment) -> PaymentRef:
        return cls(payment.id, payment.poll_url, payment.external_reference, payment.organization_id)


class PaynowProvider:
    """The interface every payment provider offers: ``begin``, ``refresh``, ``callback``."""

    name = "paynow"
    methods = (*WEB_METHODS, *EXPRESS_METHODS)

    def begin(self, invoice: Invoice, method: str, phone: str | None = None) -> Payment:
        if method not in self.methods:
            raise DomainError("Choose a way to pay.", field="method")
        if method in EXPRESS_METHODS:
            phone = normalize_phone(phone)
        reference = f"{invoice.number}-{secrets.token_hex(4).upper()}"
        return start_provider_payment(invoice, provider=self.name, method=method, reference=reference, phone=phone)

    def send(self, payment: Payment) -> Checkout:
        """Ask Paynow to collect (after ``begin`` was committed)."""
        invoice = payment.invoice
        client = PaynowClient(org_id=payment.organization_id)
        common = dict(
            reference=payment.external_reference,
            amount_cents=payment.amount,
            additional_info=f"Invoice {invoice.number}",
            return_url=url_for(
                "billing_public.payment_status", token=invoice.payment_token, payment_id=payment.id, _external=True
            ),
            result_url=url_for("billing_public.paynow_webhook", _external=True),
            auth_email=current_app.config.get("PAYNOW_AUTH_EMAIL") or invoice.organization.email,
        )
        try:
            if payment.method in EXPRESS_METHODS:
                result = client.remote(**common, phone=payment.phone, method=EXPRESS_METHODS[payment.method])
            else:
                result = client.initiate(**common)
        except (PaynowError, ProviderError) as error:
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

    def refresh(self, payment: Payment) -> bool:
        """Poll Paynow and move the payment forward with what it says. True if it moved."""
        status = self.check(PaymentRef.of(payment))
        if status is None:
            return False
        return apply_checked(payment, status)


PROVIDERS: dict[str, PaynowProvider] = {"paynow": PaynowProvider()}


def provider_for(name: str):
    return PROVIDERS[name]


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


def refresh_payment(payment: Payment) -> bool:
    """Poll and apply. Commits before the provider call so no connection is held while waiting on
    Paynow (its callback and our poll may otherwise starve the pool under a burst)."""
    if payment.status != PAY_PENDING:
        return False
    ref, provider = PaymentRef.of(payment), payment.provider
    db.session.commit()
    status = provider_for(provider).check(ref)
    payment = db.session.get(Payment, ref.id)
    if status is None or payment.status != PAY_PENDING:
        return False
    return apply_checked(payment, status)


def handle_paynow_callback(fields: list[tuple[str, str]]) -> tuple[int, str]:
    """The result-URL callback: check the hash, find our payment, then trust only a fresh poll.

    Commits between steps: the lookup, then the poll with no transaction open, then the settlement
    (whose conditional UPDATE applies the money once however many callbacks arrive together)."""
    if not verify_hash(fields, current_app.config["PAYNOW_INTEGRATION_KEY"]):
        return 400, "bad hash"
    data = {k.lower(): v for k, v in fields}
    payment = db.session.scalar(
        select(Payment).where(Payment.provider == "paynow", Payment.external_reference == data.get("reference", ""))
    )
    if payment is None:
        return 404, "unknown reference"
    if payment.status != PAY_PENDING and data.get("status", "").lower() not in REFUNDED_STATUSES:
        return 200, "already settled"
    if payment.poll_url is None:
        # The callback can beat our own bookkeeping; accept Paynow's poll URL only on Paynow's host.
        poll_url = data.get("pollurl", "")
        if not poll_url.startswith(current_app.config["PAYNOW_BASE_URL"] + "/"):
            return 400, "bad poll url"
        payment.poll_url = poll_url
    ref = PaymentRef.of(payment)
    db.session.commit()
    try:
        status = provider_for("paynow").check(ref)
    except (PaynowError, ProviderError):
        return 502, "could not confirm"
    payment = db.session.get(Payment, ref.id)
    apply_checked(payment, status)
    return 200, "ok"
