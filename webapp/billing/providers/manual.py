"""Money that reaches an invoice without a payment provider: bank transfers and cash recorded by
staff (``manual``) and the account's credit balance (``credit``)."""

from __future__ import annotations

from webapp.billing.models import MANUAL_METHODS, Payment
from webapp.billing.providers import PaymentProvider, RefundResult, register


class ManualProvider(PaymentProvider):
    name = "manual"
    label = "Bank transfer or cash"
    methods = MANUAL_METHODS
    refunds = "manual"


class CreditProvider(PaymentProvider):
    name = "credit"
    label = "Account credit"
    methods = ("CREDIT",)
    refunds = "credit"

    def refund(self, payment: Payment, amount: int, *, key: str, reason: str, reference: str | None) -> RefundResult:
        return RefundResult("SUCCEEDED", None)  # credit goes back to the balance it came from


register(ManualProvider())
register(CreditProvider())
