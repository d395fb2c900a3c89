"""One payments interface. Every way money reaches an invoice is a provider in ``PROVIDERS``:
Paynow, Stripe, manual (bank transfer, cash) and account credit. Adding one is one module in this
package (it calls ``register``) plus its sandbox in ``webapp/integrations/sandboxes/``.

A provider offers what it can of:

- ``begin(invoice, method, **details) -> Payment``: a PENDING payment (committed before the provider
  is asked, so a callback that arrives first finds it);
- ``send(payment, *, return_url, cancel_url) -> Checkout``: ask the provider to collect;
- ``check(ref) -> status`` (no database work: no transaction is open while the provider answers) and
  ``apply_check(payment, status) -> bool``: move the payment forward with what the provider says;
- ``refund(payment, amount, *, key, reason, reference) -> RefundResult``: give money back.
  ``refunds`` says how: ``"api"`` (the provider refunds), ``"manual"`` (a person refunds outside
  Tessera and records the reference) or ``"credit"`` (back to the account's credit balance).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from webapp.billing.models import PAY_PENDING, Invoice, Payment
from webapp.core.errors import DomainError
from webapp.core.models import get_existing
from webapp.core.transaction import commit_progress

if TYPE_CHECKING:
    from webapp.billing.models import BillingAccount
    from webapp.billing.payment_models import CollectionAttempt, PaymentMethod


class PaymentProviderError(DomainError):
    code = "payment_provider_error"
    status = 502


@dataclass
class Checkout:
    payment: Payment
    redirect_url: str | None = None  # send the browser here (hosted checkout, authentication)
    instructions: str | None = None  # express: tell the customer what to do on the phone


@dataclass(frozen=True)
class PaymentRef:
    """What a status check needs, read before the transaction ends (so nothing lazy-loads later)."""

    id: int
    provider: str
    poll_url: str | None
    external_reference: str | None
    provider_reference: str | None
    organization_id: int

    @classmethod
    def of(cls, payment: Payment) -> PaymentRef:
        return cls(
            payment.id,
            payment.provider,
            payment.poll_url,
            payment.external_reference,
            payment.provider_reference,
            payment.organization_id,
        )


@dataclass
class RefundResult:
    status: str  # SUCCEEDED or PENDING (a refund the provider is still sending)
    reference: str | None


class PaymentProvider:
    name = ""
    label = ""
    methods: tuple[str, ...] = ()
    refunds = "manual"

    def begin(self, invoice: Invoice, method: str, **details) -> Payment:
        raise DomainError(f"{self.label} payments are not started by the customer.")

    def send(self, payment: Payment, *, return_url: str, cancel_url: str) -> Checkout:
        return Checkout(payment)

    def check(self, ref: PaymentRef):
        return None

    def apply_check(self, payment: Payment, status) -> bool:
        return False

    def refund(self, payment: Payment, amount: int, *, key: str, reason: str, reference: str | None) -> RefundResult:
        """A refund made by a person outside Tessera: its reference is what we record."""
        reference = (reference or "").strip()
        if not reference:
            raise DomainError(
                f"{self.label} has no refund API: refund the customer yourself and give the refund's reference.",
                field="reference",
            )
        return RefundResult("SUCCEEDED", reference[:120])

    # Saved cards: only a provider that keeps cards (Stripe) answers these.

    def charge(
        self,
        invoice: Invoice,
        method: PaymentMethod,
        *,
        off_session: bool,
        return_url_for: Callable[[Payment], str] | None = None,
        attempt: CollectionAttempt | None = None,
    ) -> Checkout:
        raise DomainError(f"{self.label} does not charge saved cards.")

    def start_setup(self, account: BillingAccount, *, return_url: str, cancel_url: str) -> str:
        raise DomainError(f"{self.label} does not save cards.")

    def setup_result(self, account: BillingAccount, session_id: str) -> dict | None:
        raise DomainError(f"{self.label} does not save cards.")

    def set_default(self, account: BillingAccount, method: PaymentMethod) -> None:
        raise DomainError(f"{self.label} does not save cards.")

    def detach(self, method: PaymentMethod) -> None:
        raise DomainError(f"{self.label} does not save cards.")


PROVIDERS: dict[str, PaymentProvider] = {}


P = TypeVar("P", bound=PaymentProvider)


def register(provider: P) -> P:
    PROVIDERS[provider.name] = provider
    return provider


def provider_for(name: str) -> PaymentProvider:
    load_providers()
    try:
        return PROVIDERS[name]
    except KeyError:
        raise DomainError(f"No payment provider is called {name!r}.") from None


_loaded = False


def load_providers() -> dict[str, PaymentProvider]:
    """Import every provider module of this package once (each registers itself)."""
    global _loaded
    if not _loaded:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        _loaded = True
    return PROVIDERS


def refresh_payment(payment: Payment) -> bool:
    """Ask the provider about a PENDING payment and apply the answer. The work so far is committed
    first, so no connection is held while the provider answers (a burst of callbacks and polls would
    otherwise starve the pool). True if the payment moved."""
    if payment.status != PAY_PENDING:
        return False
    ref = PaymentRef.of(payment)
    provider = provider_for(ref.provider)
    commit_progress("no transaction stays open while the payment provider answers")
    status = provider.check(ref)
    payment = get_existing(Payment, ref.id)
    if status is None or payment.status != PAY_PENDING:
        return False
    return provider.apply_check(payment, status)
