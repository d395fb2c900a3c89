"""Demo payments: saved cards (one expiring soon), an invoice collected automatically from the
default card, a failed automatic attempt waiting for its retry, and a credit note (idempotent:
skipped once the organization has a saved card).

The customer and its two cards are made at Stripe (the built-in sandbox, through the same client
as every other Stripe call: test cards ``pm_card_visa`` and ``pm_card_mastercard`` attached to the
customer), so paying the demo's invoices by card works. The sandbox keeps its objects in memory:
after a sandbox restart, or when it was not running at seed time, the cards are records only, and
adding a card on the Saved cards page makes one Stripe knows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from webapp.billing import services as billing
from webapp.billing.models import PAY_FAILED, Invoice, Payment
from webapp.billing.payment_models import (
    ATTEMPT_FAILED,
    ATTEMPT_SUCCEEDED,
    CollectionAttempt,
    PaymentMethod,
    ProviderCustomer,
)
from webapp.core.models import utcnow
from webapp.demo import step
from webapp.extensions import db
from webapp.orgs.demo import demo_org


def _at_stripe(account) -> dict[str, str]:
    """The account's Stripe customer and the test cards attached to it, by suffix ({} when Stripe
    cannot be reached: the demo then keeps records only)."""
    from stripe import StripeError

    from webapp.billing.providers.stripe import customer_id_for, stripe_client
    from webapp.integrations.providers.client import ProviderError

    try:
        customer = customer_id_for(account)
        client = stripe_client(account.organization_id)
        return {
            suffix: client.v1.payment_methods.attach(test_card, params={"customer": customer}).id
            for suffix, test_card in (("visa", "pm_card_visa"), ("mc", "pm_card_mastercard"))
        }
    except (StripeError, ProviderError, OSError):
        return {}


def _card(account, brand, last4, month, year, default, suffix, stripe_ids: dict[str, str]) -> PaymentMethod:
    method = PaymentMethod(
        organization_id=account.organization_id,
        account_id=account.id,
        stripe_payment_method_id=stripe_ids.get(suffix) or f"pm_demo{account.id}{suffix}",
        card_brand=brand,
        card_last4=last4,
        card_exp_month=month,
        card_exp_year=year,
        is_default=default,
    )
    db.session.add(method)
    db.session.flush()
    return method


def _invoice(account, period_start: date, description: str, amount: int, issued_at: datetime) -> Invoice:
    period_end = (period_start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    invoice = billing.create_draft_invoice(account, period_start=period_start, period_end=period_end)
    billing.add_line_item(invoice, description, 1, amount)
    billing.finalize_invoice(invoice, None, send_email=False, at=issued_at)
    return invoice


def _attempt(invoice, method, number, status, at, payment=None, error=None, next_at=None) -> CollectionAttempt:
    attempt = CollectionAttempt(
        organization_id=invoice.organization_id,
        invoice_id=invoice.id,
        payment_method_id=method.id,
        payment_id=getattr(payment, "id", None),
        number=number,
        status=status,
        amount=invoice.total,
        currency=invoice.currency,
        attempted_at=at,
        error_code="generic_decline" if error else None,
        error_message=error,
        next_attempt_at=next_at,
    )
    db.session.add(attempt)
    return attempt


@step(order=90)  # last: invoices other steps issue are not charged to the demo cards
def payments_demo() -> None:
    now = utcnow()
    org = demo_org("harare-retail")
    if org is None:
        return
    account = billing.billing_account_for(org)
    if db.session.scalar(select(PaymentMethod.id).where(PaymentMethod.account_id == account.id).limit(1)):
        return
    stripe_ids = _at_stripe(account)
    if not stripe_ids and not db.session.scalar(
        select(ProviderCustomer.id).where(ProviderCustomer.account_id == account.id)
    ):
        db.session.add(
            ProviderCustomer(
                organization_id=org.id, account_id=account.id, provider="stripe", customer_id=f"cus_demo{account.id}"
            )
        )
    # An invoice the default card paid on its own, the day it was issued.
    issued = now - timedelta(days=130)
    collected = _invoice(account, date(issued.year, issued.month, 1), "Card reader rental", 2_500, issued)
    payment = billing.apply_payment(
        collected,
        collected.amount_due,
        "STRIPE_CARD",
        provider="stripe",
        external_reference=f"pi_demo{collected.id}",
        external_status="succeeded",
    )
    payment.provider_reference = payment.external_reference
    collected_at = issued + timedelta(minutes=5)

    # A first attempt that failed two days ago; the retry is due tomorrow.
    issued = now - timedelta(days=2)
    failing = _invoice(account, date(issued.year, issued.month, 1), "Receipt printer rental", 1_800, issued)
    failed = Payment(
        organization_id=org.id,
        account_id=account.id,
        invoice_id=failing.id,
        amount=failing.amount_due,
        currency=failing.currency,
        method="STRIPE_CARD",
        provider="stripe",
        status=PAY_FAILED,
        external_reference=f"pi_demo{failing.id}",
        provider_reference=f"pi_demo{failing.id}",
        external_status="insufficient_funds",
        initiated_at=issued,
        failed_at=issued,
        error_message="Your card has insufficient funds.",
    )
    db.session.add(failed)
    db.session.flush()

    # The cards come after the invoices, so finalizing them above did not queue real charges.
    soon = (now.replace(day=1) + timedelta(days=40)).replace(day=1)  # expires at the end of next month
    visa = _card(account, "visa", "4242", 12, now.year + 3, True, "visa", stripe_ids)
    _card(account, "mastercard", "4444", soon.month, soon.year, False, "mc", stripe_ids)
    _attempt(collected, visa, 1, ATTEMPT_SUCCEEDED, collected_at, payment)
    retry_at = issued + timedelta(days=3)
    _attempt(failing, visa, 1, ATTEMPT_FAILED, issued, failed, "Your card has insufficient funds.", retry_at)

    # A credit note: part of the paid card-reader invoice back to the credit balance.
    billing.issue_credit_note(
        collected,
        None,
        "The card reader was replaced after three days offline",
        lines={collected.lines[0].id: 500},
        destination="credit",
    )
    db.session.flush()
