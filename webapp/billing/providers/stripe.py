"""Stripe: Checkout Sessions to pay an invoice, PaymentIntents on a saved card (on or off session, each
with an idempotency key), SetupIntents (through Checkout in setup mode) to save a card, refunds, and
the handling of Stripe's webhook events. Every call goes through the official library, whose HTTP
is our provider client (``webapp/integrations/providers/stripe.py``).

Ids kept as seed 004 has them: the customer (``billing_provider_customers``), the payment method
(``billing_payment_methods.stripe_payment_method_id``) and, on each payment, the object we created
(``external_reference``: ``cs_…`` for a checkout, ``pi_…`` for a charge of a saved card) and the
PaymentIntent (``provider_reference``: ``pi_…``). Invoices and subscriptions are Tessera's own, so
there is no Stripe invoice or subscription id to keep.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal, overload

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from stripe.params import PaymentIntentCreateParams
from stripe.params.checkout import SessionCreateParams

from webapp.audit import record
from webapp.billing.models import PAY_CANCELLED, PAY_FAILED, PAY_PAID, PAY_PENDING, BillingAccount, Invoice, Payment
from webapp.billing.payment_models import PaymentMethod, ProviderCustomer, ProviderEvent
from webapp.billing.providers import (
    Checkout,
    PaymentProvider,
    PaymentProviderError,
    PaymentRef,
    RefundResult,
    register,
)
from webapp.billing.services import settle_payment, start_provider_payment
from webapp.billing.services.provider_events import EVENT_HANDLERS
from webapp.core.models import get_existing
from webapp.core.transaction import commit_progress
from webapp.extensions import db
from webapp.integrations.providers.stripe import CardError, StripeError, stripe_client, stripe_configured

log = logging.getLogger(__name__)

METHOD = "STRIPE_CARD"


def stripe_key(kind: str, row) -> str:
    """An idempotency key that is the same for every retry of one operation on one row, and never
    the same for another row (ids alone repeat when a database is reset; the timestamp does not)."""
    moment = getattr(row, "initiated_at", None) or getattr(row, "created_at", None)
    return f"tessera-{kind}-{row.id}-{int(moment.timestamp() * 1_000_000) if moment else 0}"


def error_message(error: StripeError) -> str:
    return (getattr(error, "user_message", None) or str(error) or "Stripe refused the request.")[:500]


def _error_code(error: StripeError) -> str | None:
    body = (getattr(error, "json_body", None) or {}).get("error") or {}
    return body.get("decline_code") or body.get("code")


@dataclass
class StripeStatus:
    """What a retrieve told us: the PaymentIntent (a dict) and, for a checkout, the session's status."""

    intent: dict | None
    session_status: str | None = None


def _as_dict(obj) -> dict | None:
    if obj is None or isinstance(obj, str):
        return None
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


# --- customers ---------------------------------------------------------------------------------


@overload
def customer_id_for(account: BillingAccount, *, create: Literal[True] = True) -> str: ...


@overload
def customer_id_for(account: BillingAccount, *, create: bool) -> str | None: ...


def customer_id_for(account: BillingAccount, *, create: bool = True) -> str | None:
    """The account's Stripe customer, created at Stripe on first use (``create=False``: None if none)."""
    found = db.session.scalar(
        select(ProviderCustomer.customer_id).where(
            ProviderCustomer.account_id == account.id, ProviderCustomer.provider == "stripe"
        )
    )
    if found or not create:
        return found
    org = account.organization
    customer = stripe_client(account.organization_id).v1.customers.create(
        params={"email": org.email, "name": org.name, "metadata": {"tessera_account_id": str(account.id)}},
        options={"idempotency_key": stripe_key("customer", account) + f"-{org.slug}"},
    )
    try:
        with db.session.begin_nested():
            db.session.add(
                ProviderCustomer(
                    organization_id=account.organization_id,
                    account_id=account.id,
                    provider="stripe",
                    customer_id=customer.id,
                )
            )
    except IntegrityError:  # another request made it at the same moment: use theirs
        theirs = customer_id_for(account, create=False)
        if theirs is None:
            raise RuntimeError(f"Stripe customer of billing account {account.id}: conflict, yet no row") from None
        return theirs
    record(None, "stripe.customer_created", account, {"customer": customer.id})
    return customer.id


def account_of_customer(customer_id: str | None) -> BillingAccount | None:
    if not customer_id:
        return None
    row = db.session.scalar(
        select(ProviderCustomer).where(
            ProviderCustomer.provider == "stripe", ProviderCustomer.customer_id == customer_id
        )
    )
    return db.session.get(BillingAccount, row.account_id) if row else None


# --- the provider --------------------------------------------------------------------------------


def _metadata(payment: Payment, invoice: Invoice) -> dict[str, str]:
    return {"tessera_payment_id": str(payment.id), "invoice_number": invoice.number or ""}


class StripeProvider(PaymentProvider):
    name = "stripe"
    label = "Card (Stripe)"
    methods = (METHOD,)
    refunds = "api"

    def begin(self, invoice: Invoice, method: str = METHOD, **_) -> Payment:
        if not stripe_configured():
            raise PaymentProviderError("Card payments are not set up (STRIPE_SECRET_KEY).")
        return start_provider_payment(invoice, provider=self.name, method=METHOD, reference=None)

    def send(self, payment: Payment, *, return_url: str, cancel_url: str) -> Checkout:
        """A Checkout Session for what is due; the browser goes to Stripe's hosted page."""
        invoice = payment.invoice
        if invoice is None:
            raise PaymentProviderError("This payment is for no invoice; there is nothing to check out.")
        account = get_existing(BillingAccount, payment.account_id)
        metadata = _metadata(payment, invoice)
        try:
            session = stripe_client(payment.organization_id).v1.checkout.sessions.create(
                params={
                    "mode": "payment",
                    "customer": customer_id_for(account),
                    "client_reference_id": str(payment.id),
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": payment.currency.lower(),
                                "unit_amount": payment.amount,
                                "product_data": {"name": f"Invoice {invoice.number}"},
                            },
                        }
                    ],
                    "success_url": return_url,
                    "cancel_url": cancel_url,
                    "metadata": metadata,
                    "payment_intent_data": {"metadata": metadata, "description": f"Invoice {invoice.number}"},
                },
                options={"idempotency_key": stripe_key("checkout", payment)},
            )
        except StripeError as error:
            settle_payment(payment, PAY_FAILED, external_status="error", error=error_message(error))
            raise PaymentProviderError(f"Stripe could not start the checkout: {error_message(error)}") from None
        payment.external_reference = session.id
        payment.external_status = session.status
        return Checkout(payment, session.url)

    def charge(
        self,
        invoice: Invoice,
        method: PaymentMethod,
        *,
        off_session: bool,
        return_url_for=None,
        attempt=None,
    ) -> Checkout:
        """Charge a saved card: a PENDING payment is committed, then a PaymentIntent is created and
        confirmed at once with the payment's idempotency key (a retry can never charge twice)."""
        if method.status != "ACTIVE" or method.account_id != invoice.account_id:
            raise PaymentProviderError("That card is no longer saved for this account.")
        payment = self.begin(invoice)
        if attempt is not None:
            attempt.payment_id = payment.id
        payment_id, org_id = payment.id, payment.organization_id
        account = get_existing(BillingAccount, invoice.account_id)
        customer = customer_id_for(account)
        params: PaymentIntentCreateParams = {
            "amount": payment.amount,
            "currency": payment.currency.lower(),
            "customer": customer,
            "payment_method": method.stripe_payment_method_id,
            "confirm": True,
            "off_session": off_session,
            "description": f"Invoice {invoice.number}",
            "metadata": _metadata(payment, invoice),
            # Stripe's types for this API version omit the parameter the API still takes.
            "payment_method_types": ["card"],  # type: ignore[typeddict-unknown-key]
        }
        if not off_session and return_url_for is not None:
            params["return_url"] = return_url_for(payment)  # after authenticating, the payer lands here
        key = stripe_key("payment", payment)
        commit_progress("the PaymentIntent's webhook may arrive before its answer; the payment must exist")
        payment = get_existing(Payment, payment_id)
        try:
            created = stripe_client(org_id).v1.payment_intents.create(params=params, options={"idempotency_key": key})
        except CardError as error:
            body = error.json_body if isinstance(error.json_body, dict) else {}
            failed = _as_dict((body.get("error") or {}).get("payment_intent"))
            apply_intent(payment, failed or {}, failure=(_error_code(error), error_message(error)))
            return Checkout(payment)
        except StripeError as error:
            if error.http_status and error.http_status < 500:
                settle_payment(payment, PAY_FAILED, external_status=_error_code(error), error=error_message(error))
            else:  # no answer: the outcome is unknown until the webhook or a retrieve tells us
                payment.external_status = "unknown"
                payment.error_message = error_message(error)
            return Checkout(payment)
        intent = _as_dict(created) or {}
        apply_intent(payment, intent)
        next_action = (intent.get("next_action") or {}).get("redirect_to_url") or {}
        return Checkout(payment, next_action.get("url"))

    def check(self, ref: PaymentRef) -> StripeStatus | None:
        client = stripe_client(ref.organization_id)
        reference = ref.external_reference or ""
        if reference.startswith("cs_"):
            session = client.v1.checkout.sessions.retrieve(reference, params={"expand": ["payment_intent"]})
            return StripeStatus(_as_dict(session.payment_intent), session.status)
        intent_id = ref.provider_reference or reference
        if intent_id.startswith("pi_"):
            return StripeStatus(_as_dict(client.v1.payment_intents.retrieve(intent_id)))
        return None

    def apply_check(self, payment: Payment, status: StripeStatus) -> bool:
        moved = apply_intent(payment, status.intent) if status.intent else False
        if status.session_status == "expired" and payment.status == PAY_PENDING:
            moved = settle_payment(payment, PAY_CANCELLED, external_status="expired", error="checkout expired")
        return moved

    def cancel_checkout(self, payment: Payment) -> bool:
        """The payer left the hosted page: expire the session so it can no longer be paid."""
        if payment.status != PAY_PENDING or not (payment.external_reference or "").startswith("cs_"):
            return False
        try:
            stripe_client(payment.organization_id).v1.checkout.sessions.expire(payment.external_reference or "")
        except StripeError as error:
            log.info("could not expire %s: %s", payment.external_reference, error)
            return False  # already complete or expired: the next check will tell
        return settle_payment(payment, PAY_CANCELLED, external_status="expired", error="checkout left")

    def refund(self, payment: Payment, amount: int, *, key: str, reason: str, reference: str | None) -> RefundResult:
        intent = payment.provider_reference or payment.external_reference or ""
        if not intent.startswith("pi_"):
            raise PaymentProviderError("This payment has no Stripe PaymentIntent to refund.")
        try:
            refund = stripe_client(payment.organization_id).v1.refunds.create(
                params={
                    "payment_intent": intent,
                    "amount": amount,
                    "reason": "requested_by_customer",
                    "metadata": {"tessera_refund_key": key, "tessera_payment_id": str(payment.id)},
                },
                options={"idempotency_key": key},
            )
        except StripeError as error:
            raise PaymentProviderError(f"Stripe refused the refund: {error_message(error)}") from None
        return RefundResult("SUCCEEDED" if refund.status == "succeeded" else "PENDING", refund.id)

    # --- saving cards ------------------------------------------------------------------------

    def start_setup(self, account: BillingAccount, *, return_url: str, cancel_url: str) -> str:
        """A Checkout Session in setup mode (Stripe makes the SetupIntent); the URL of its hosted page."""
        if not stripe_configured():
            raise PaymentProviderError("Card payments are not set up (STRIPE_SECRET_KEY).")
        try:
            params: SessionCreateParams = {
                "mode": "setup",
                "customer": customer_id_for(account),
                # Stripe's types for this API version omit the parameter the API still takes.
                "payment_method_types": ["card"],  # type: ignore[typeddict-unknown-key]
                "success_url": return_url,
                "cancel_url": cancel_url,
                "metadata": {"tessera_account_id": str(account.id)},
            }
            session = stripe_client(account.organization_id).v1.checkout.sessions.create(params=params)
        except StripeError as error:
            raise PaymentProviderError(f"Stripe could not start saving a card: {error_message(error)}") from None
        if not session.url:  # a hosted session always has one; without it there is nowhere to send the payer
            raise PaymentProviderError("Stripe started the card setup without a page to send you to.")
        return session.url

    def setup_result(self, account: BillingAccount, session_id: str) -> dict | None:
        """The payment method a completed setup session saved (None while it is not complete)."""
        if not is_session_id(session_id):
            raise PaymentProviderError("That is not a card setup Stripe started.")
        try:
            session = stripe_client(account.organization_id).v1.checkout.sessions.retrieve(
                session_id, params={"expand": ["setup_intent"]}
            )
        except StripeError as error:
            raise PaymentProviderError(f"Stripe could not find that card setup: {error_message(error)}") from None
        if session.customer != customer_id_for(account, create=False):
            raise PaymentProviderError("That card setup belongs to another account.")
        intent = _as_dict(session.setup_intent) or {}
        if session.status != "complete" or intent.get("status") != "succeeded":
            return None
        return self.payment_method(account.organization_id, intent["payment_method"])

    def payment_method(self, org_id: int, method_id: str) -> dict:
        return _as_dict(stripe_client(org_id).v1.payment_methods.retrieve(method_id)) or {}

    def set_default(self, account: BillingAccount, method: PaymentMethod) -> None:
        customer = customer_id_for(account, create=False)
        if not customer:
            return
        try:
            stripe_client(account.organization_id).v1.customers.update(
                customer, params={"invoice_settings": {"default_payment_method": method.stripe_payment_method_id}}
            )
        except StripeError as error:
            raise PaymentProviderError(f"Stripe could not make that card the default: {error_message(error)}") from None

    def detach(self, method: PaymentMethod) -> None:
        try:
            stripe_client(method.organization_id).v1.payment_methods.detach(method.stripe_payment_method_id)
        except StripeError as error:
            body = (getattr(error, "json_body", None) or {}).get("error") or {}
            if body.get("code") not in ("resource_missing", "payment_method_unexpected_state"):
                raise PaymentProviderError(f"Stripe could not remove the card: {error_message(error)}") from None


PROVIDER = register(StripeProvider())

_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,200}")


def is_session_id(value: str) -> bool:
    """A Checkout Session id as Stripe writes them (what a return URL may carry back to us)."""
    return _SESSION_ID.fullmatch(value) is not None


# --- applying what Stripe says -------------------------------------------------------------------


def apply_intent(payment: Payment, intent: dict, *, failure: tuple[str | None, str] | None = None) -> bool:
    """Move ``payment`` with its PaymentIntent's status. A decline inside an open checkout leaves the
    payment PENDING (the payer may try another card); anywhere else it fails the payment."""
    from webapp.billing.services.collection import attempt_settled

    if intent.get("id") and not payment.provider_reference:
        payment.provider_reference = intent["id"]
        if not payment.external_reference:
            payment.external_reference = intent["id"]
    status = intent.get("status") or ("requires_payment_method" if failure else None)
    in_checkout = (payment.external_reference or "").startswith("cs_")
    moved = False
    if status == "succeeded":
        received = intent.get("amount_received", intent.get("amount"))
        if received != payment.amount:
            record(None, "payment.amount_mismatch", payment, {"expected": payment.amount, "reported": received})
            moved = settle_payment(payment, PAY_FAILED, external_status="amount_mismatch", error="amount mismatch")
        else:
            moved = settle_payment(payment, PAY_PAID, external_status="succeeded")
    elif status == "canceled":
        moved = settle_payment(payment, PAY_CANCELLED, external_status="canceled", error="canceled")
    elif status == "requires_payment_method" and (failure or intent.get("last_payment_error")):
        error = intent.get("last_payment_error") or {}
        code = (failure[0] if failure else None) or error.get("decline_code") or error.get("code") or "declined"
        message = (failure[1] if failure else None) or error.get("message") or "The card was declined."
        if in_checkout and payment.status == PAY_PENDING:
            payment.external_status, payment.error_message = code[:40], message[:500]
        else:
            moved = settle_payment(payment, PAY_FAILED, external_status=code[:40], error=message[:500])
    elif status and payment.status == PAY_PENDING:
        payment.external_status = status[:40]
    attempt_settled(payment)
    return moved


def payment_for_intent(intent: dict) -> Payment | None:
    payment_id = str((intent.get("metadata") or {}).get("tessera_payment_id") or "")
    payment = db.session.get(Payment, int(payment_id)) if payment_id.isdigit() else None
    if payment is not None and payment.provider == "stripe":
        if payment.provider_reference and intent.get("id") and payment.provider_reference != intent["id"]:
            return None  # another PaymentIntent: never applied to this payment
        return payment
    if not intent.get("id"):
        return None
    return db.session.scalar(
        select(Payment).where(
            Payment.provider == "stripe",
            or_(Payment.provider_reference == intent["id"], Payment.external_reference == intent["id"]),
        )
    )


def _on_checkout_completed(session: dict) -> bool:
    if session.get("mode") == "setup":
        account = account_of_customer(session.get("customer"))
        if account is None or not session.get("setup_intent"):
            return False
        intent = _as_dict(stripe_client(account.organization_id).v1.setup_intents.retrieve(session["setup_intent"]))
        return _save_from_setup(account, intent or {})
    payment_id = str(
        (session.get("metadata") or {}).get("tessera_payment_id") or session.get("client_reference_id") or ""
    )
    payment = db.session.get(Payment, int(payment_id)) if payment_id.isdigit() else None
    if payment is None or payment.provider != "stripe" or payment.external_reference != session.get("id"):
        return False
    if session.get("payment_intent") and not payment.provider_reference:
        payment.provider_reference = session["payment_intent"]
    if session.get("payment_status") != "paid":
        return False
    return settle_payment(payment, PAY_PAID, external_status="succeeded")


def _save_from_setup(account: BillingAccount, intent: dict) -> bool:
    from webapp.billing.services.payment_methods import save_card

    if intent.get("status") != "succeeded" or not intent.get("payment_method"):
        return False
    details = PROVIDER.payment_method(account.organization_id, intent["payment_method"])
    save_card(account, details, actor=None)
    return True


def _on_refunded(charge: dict) -> bool:
    from webapp.billing.services.credit_notes import record_provider_refund

    payment = payment_for_intent({"id": charge.get("payment_intent"), "metadata": charge.get("metadata")})
    if payment is None:
        return False
    acted = False
    for refund in (charge.get("refunds") or {}).get("data") or []:
        acted = record_provider_refund(payment, refund) or acted
    return acted


def _on_detached(method: dict) -> bool:
    from webapp.billing.services.payment_methods import method_removed_at_provider

    return method_removed_at_provider(method.get("id") or "")


def handle_stripe_event(event: ProviderEvent) -> bool:
    obj = (event.payload.get("data") or {}).get("object") or {}
    if event.type == "checkout.session.completed":
        return _on_checkout_completed(obj)
    if event.type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
        payment = payment_for_intent(obj)
        if payment is None:
            return False
        event.payment_id = payment.id
        return apply_intent(payment, obj) or event.type == "payment_intent.succeeded"
    if event.type == "charge.refunded":
        return _on_refunded(obj)
    if event.type == "setup_intent.succeeded":
        account = account_of_customer(obj.get("customer"))
        return account is not None and _save_from_setup(account, obj)
    if event.type == "payment_method.detached":
        return _on_detached(obj)
    return False


EVENT_HANDLERS["stripe"] = handle_stripe_event
