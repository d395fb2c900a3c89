"""Payments: manual, partial, overpayment, idempotency, credit balance, credits, credit notes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.billing.helpers import mail_with, make_invoice, org_with_owner
from webapp.billing import services as billing
from webapp.billing.models import Credit, Payment
from webapp.core.errors import DomainError, IllegalTransition
from webapp.core.events import subscribe
from webapp.extensions import db

SEEN: list = []


@subscribe("invoice.paid", "payment.received")
def _remember(event):
    SEEN.append((event.name, event.data.get("invoice_id")))


def test_partial_then_full_payment(ctx, run_jobs, mailbox):
    org, _ = org_with_owner("payer@example.com")
    invoice = make_invoice(org, lines=((1, 10_000),))  # 115.00 with tax
    SEEN.clear()
    billing.record_manual_payment(invoice, None, 5_000, "BANK_TRANSFER", "FNB-1")
    db.session.commit()
    assert invoice.status == "PARTIAL" and invoice.amount_paid == 5_000 and invoice.amount_due == 6_500
    billing.record_manual_payment(invoice, None, 6_500, "CASH", "RCPT-9")
    db.session.commit()
    assert invoice.status == "PAID" and invoice.amount_due == 0 and invoice.paid_at is not None
    assert ("invoice.paid", invoice.id) in SEEN
    run_jobs()
    mail_with(mailbox, "payer@example.com", "is paid")


def test_overpayment_becomes_credit_balance(ctx):
    org, _ = org_with_owner()
    invoice = make_invoice(org, lines=((1, 10_000),))
    billing.record_manual_payment(invoice, None, 20_000, "BANK_TRANSFER", "X-1")
    db.session.commit()
    account = billing.billing_account_for(org)
    assert invoice.status == "PAID"
    assert account.credit_balance == 20_000 - 11_500
    credit = db.session.scalar(select(Credit).where(Credit.account_id == account.id))
    assert credit.kind == "OVERPAYMENT" and credit.amount == 8_500


def test_apply_payment_is_idempotent_per_external_reference(ctx):
    org, _ = org_with_owner()
    invoice = make_invoice(org, lines=((1, 10_000),))
    first = billing.apply_payment(invoice, 1_000, "PAYNOW_ECOCASH", provider="paynow", external_reference="R1")
    again = billing.apply_payment(invoice, 1_000, "PAYNOW_ECOCASH", provider="paynow", external_reference="R1")
    db.session.commit()
    assert first.id == again.id
    assert invoice.amount_paid == 1_000
    assert db.session.scalar(select(db.func.count()).select_from(Payment)) == 1


def test_manual_payment_validation(ctx):
    org, _ = org_with_owner()
    invoice = make_invoice(org)
    with pytest.raises(DomainError, match="reference"):
        billing.record_manual_payment(invoice, None, 100, "CASH", "")
    with pytest.raises(DomainError, match="bank transfer or cash"):
        billing.record_manual_payment(invoice, None, 100, "PAYNOW_VISA", "x")
    with pytest.raises(DomainError, match="above zero"):
        billing.record_manual_payment(invoice, None, 0, "CASH", "x")
    draft = make_invoice(org, finalize=False)
    with pytest.raises(IllegalTransition, match="draft"):
        billing.record_manual_payment(draft, None, 100, "CASH", "x")


def test_credit_issued_against_an_invoice_pays_it(ctx):
    org, _ = org_with_owner()
    staff = __import__("tests.billing.helpers", fromlist=["staff_user"]).staff_user()
    invoice = make_invoice(org, lines=((1, 10_000),))
    account = billing.billing_account_for(org)
    with pytest.raises(DomainError, match="why"):
        billing.issue_credit(account, staff, 500, "")
    credit = billing.issue_credit(account, staff, 5_000, "Terminal was down for a week", invoice=invoice)
    db.session.commit()
    assert credit.issued_by_id == staff.id and credit.reason.startswith("Terminal")
    assert invoice.status == "PARTIAL" and invoice.amount_paid == 5_000
    assert account.credit_balance == 0
    payment = db.session.scalar(select(Payment).where(Payment.invoice_id == invoice.id))
    assert payment.method == "CREDIT"


def test_pay_from_credit_balance(ctx):
    org, _ = org_with_owner()
    account = billing.billing_account_for(org)
    billing.issue_credit(account, None, 20_000, "Goodwill")
    invoice = make_invoice(org, lines=((1, 10_000),))
    billing.pay_from_credit(invoice, None)
    db.session.commit()
    assert invoice.status == "PAID" and account.credit_balance == 20_000 - 11_500
    with pytest.raises(IllegalTransition):
        billing.pay_from_credit(invoice, None)
    other = make_invoice(org, lines=((1, 100_000),))
    billing.pay_from_credit(other, None)
    assert other.status == "PARTIAL" and account.credit_balance == 0
    with pytest.raises(DomainError, match="no credit"):
        billing.pay_from_credit(other, None)


def test_credit_note_refunds_a_paid_invoice(ctx):
    org, _ = org_with_owner()
    invoice = make_invoice(org, lines=((1, 10_000),))
    with pytest.raises(IllegalTransition):
        billing.issue_credit_note(invoice, None, "refund")
    billing.record_manual_payment(invoice, None, 11_500, "CASH", "R")
    note = billing.issue_credit_note(invoice, None, "Customer returned the terminal")
    db.session.commit()
    assert invoice.status == "REFUNDED" and note.destination == "credit" and note.total == 11_500
    assert note.number == f"CN-{note.issued_at.year}-000001" and [line.amount for line in note.lines] == [10_000]
    assert billing.billing_account_for(org).credit_balance == 11_500
