"""Paying an invoice through a provider, the one path for the pay link, the billing page and staff:
start a payment, hand the browser to the provider, and check the payment when the payer is back."""

from __future__ import annotations

from collections.abc import Callable

import stripe

from webapp.billing.models import Invoice, Payment
from webapp.billing.providers import Checkout, PaymentProviderError, provider_for, refresh_payment
from webapp.core.display import provider_name
from webapp.core.errors import DomainError
from webapp.core.models import get_existing
from webapp.core.transaction import commit_progress
from webapp.integrations.providers.client import ProviderError
from webapp.integrations.providers.paynow import PaynowError

PROVIDER_FAILURES = (ProviderError, PaynowError, stripe.StripeError)


def start_checkout(
    invoice: Invoice,
    provider_name: str,
    method: str,
    *,
    urls: Callable[[Payment], tuple[str, str]],
    phone: str | None = None,
) -> Checkout:
    """A PENDING payment (committed: the provider's callback may come before its reply), then the
    provider's checkout. ``urls(payment)`` gives the return and cancel URLs for that payment."""
    provider = provider_for(provider_name)
    payment = provider.begin(invoice, method, phone=phone)
    commit_progress("the provider's callback may arrive before its reply; the payment must exist")
    payment = get_existing(Payment, payment.id)
    return_url, cancel_url = urls(payment)
    try:
        return provider.send(payment, return_url=return_url, cancel_url=cancel_url)
    except DomainError:
        commit_progress("keep the failed attempt and its reason")
        raise


def check_payment(payment: Payment) -> bool:
    """The payer is back, or a status page polls: ask the provider (a refusal the payer can read)."""
    try:
        return refresh_payment(payment)
    except PROVIDER_FAILURES:
        # A sentence for the payer; the exception and its detail stay in the call log.
        raise PaymentProviderError(
            f"{provider_name(payment.provider)} did not answer just now; nothing more was charged and we keep checking."
        ) from None
