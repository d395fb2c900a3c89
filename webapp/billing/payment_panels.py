"""What the invoice pages (customer and staff) show about payments beyond the payments list:
collection attempts, credit notes, what is left to credit per line, refundable payments, saved cards.
Exposed to templates as ``invoice_payments(invoice)`` so the invoice routes stay as they are."""

from __future__ import annotations

from dataclasses import dataclass, field

from webapp.billing.models import Invoice, Payment
from webapp.billing.payment_forms import ButtonForm, RefundForm
from webapp.billing.payment_models import CollectionAttempt, CreditNote, PaymentMethod
from webapp.billing.services.collection import attempts_of
from webapp.billing.services.credit_notes import credit_notes_of, credited_by_line, credited_totals, refundable_amount
from webapp.billing.services.payment_methods import payment_methods_of


@dataclass
class InvoicePayments:
    attempts: list[CollectionAttempt]
    credit_notes: list[CreditNote]
    credited_total: int
    left_by_line: dict[int, int]
    refundable: list[tuple[Payment, int]]
    methods: list[PaymentMethod] = field(default_factory=list)
    refund_form: RefundForm | None = None
    button: ButtonForm | None = None


def invoice_payments(invoice: Invoice) -> InvoicePayments:
    from webapp.billing.services import billing_account_for

    done = credited_by_line(invoice.id)
    refundable = [(p, refundable_amount(p)) for p in invoice.payments]
    refundable = [(p, left) for p, left in refundable if left > 0]
    form = RefundForm(prefix="refund")
    form.payment_id.choices = [(0, "None: to the credit balance")] + [
        (p.id, f"#{p.id} {p.method_label} ({left / 100:.2f} refundable)") for p, left in refundable
    ]
    return InvoicePayments(
        attempts=attempts_of(invoice.id),
        credit_notes=credit_notes_of(invoice.id),
        credited_total=credited_totals(invoice.id)[0],
        left_by_line={line.id: line.total - done.get(line.id, 0) for line in invoice.lines},
        refundable=refundable,
        methods=payment_methods_of(billing_account_for(invoice.organization_id)) if invoice.is_open else [],
        refund_form=form,
        button=ButtonForm(),
    )


@dataclass
class AccountPayments:
    methods: list[PaymentMethod]
    stripe_customer: str | None
    credit_form: object


def account_payments(org_id: int) -> AccountPayments:
    """The staff page of an account: its saved cards, its Stripe customer, the account-credit form."""
    from sqlalchemy import select

    from webapp.billing.payment_forms import AccountCreditForm
    from webapp.billing.payment_models import ProviderCustomer
    from webapp.billing.services import billing_account_for
    from webapp.extensions import db

    account = billing_account_for(org_id)
    customer = db.session.scalar(
        select(ProviderCustomer.customer_id).where(
            ProviderCustomer.account_id == account.id, ProviderCustomer.provider == "stripe"
        )
    )
    return AccountPayments(payment_methods_of(account), customer, AccountCreditForm(prefix="account"))
