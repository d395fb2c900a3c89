"""Invoices: drafts, totals and tax, finalization and numbering, the status machine, immutability."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select, text, update

from tests.billing.helpers import make_invoice, org_with_owner
from webapp.billing import services as billing
from webapp.billing.models import Invoice, InvoiceLineItem
from webapp.core.errors import DomainError, IllegalTransition
from webapp.extensions import db


def test_every_new_organization_gets_one_billing_account(ctx):
    org, _ = org_with_owner()
    account = billing.billing_account_for(org)
    assert account.id is not None
    assert account.status == "ACTIVE" and account.grace_period_days == 14 and account.credit_balance == 0
    assert billing.billing_account_for(org).id == account.id


def test_draft_totals_use_the_tax_rate_setting(ctx):
    org, _ = org_with_owner()
    invoice = make_invoice(org, lines=((2, 1_999), (1, 5_000)), finalize=False)
    assert invoice.status == "DRAFT" and invoice.number is None
    assert invoice.subtotal == 8_998
    assert invoice.tax == 1_350  # 15% of 89.98 = 13.497, rounded half up
    assert invoice.total == 10_348 and invoice.amount_due == 10_348


def test_finalize_assigns_number_dates_and_link(ctx):
    org, _ = org_with_owner()
    first = make_invoice(org)
    second = make_invoice(org)
    year = first.issued_at.year
    assert first.number == f"INV-{year}-000001"
    assert second.number == f"INV-{year}-000002"
    assert first.status == "ISSUED" and first.finalized_at is not None
    assert (first.due_at - first.issued_at).days == 14
    assert len(first.payment_token) >= 40 and first.payment_token != second.payment_token
    assert first.payment_token_expires_at > first.issued_at


def test_finalize_refuses_empty_and_non_drafts(ctx):
    org, _ = org_with_owner()
    account = billing.billing_account_for(org)
    empty = billing.create_draft_invoice(account, period_start=date(2026, 1, 1), period_end=date(2026, 1, 31))
    with pytest.raises(DomainError, match="at least one line"):
        billing.finalize_invoice(empty, None)
    issued = make_invoice(org)
    with pytest.raises(IllegalTransition):
        billing.finalize_invoice(issued, None)


def test_finalized_invoice_refuses_changes_in_the_orm(ctx):
    org, _ = org_with_owner()
    invoice = make_invoice(org)
    with pytest.raises(billing.InvoiceFinalized):
        billing.add_line_item(invoice, "Extra", 1, 100)
    invoice.total = 1
    with pytest.raises(billing.InvoiceFinalized, match="total"):
        db.session.flush()
    db.session.rollback()
    invoice = db.session.get(Invoice, invoice.id)
    invoice.lines[0].unit_price = 1
    with pytest.raises(billing.InvoiceFinalized, match="lines"):
        db.session.flush()
    db.session.rollback()
    invoice = db.session.get(Invoice, invoice.id)
    invoice.amount_paid = 100  # moving columns may move
    invoice.status = "PARTIAL"
    db.session.flush()
    db.session.rollback()


@pytest.mark.postgres
def test_postgres_trigger_refuses_raw_sql_updates(ctx):
    org, _ = org_with_owner()
    invoice = make_invoice(org)
    for sql in (
        "UPDATE billing_invoices SET total = 1 WHERE id = :id",
        "UPDATE billing_invoices SET number = 'INV-1999-000001' WHERE id = :id",
        "UPDATE billing_invoices SET due_at = now() WHERE id = :id",
        "UPDATE billing_invoice_lines SET unit_price = 1 WHERE invoice_id = :id",
        "DELETE FROM billing_invoice_lines WHERE invoice_id = :id",
        "DELETE FROM billing_invoices WHERE id = :id",
    ):
        with pytest.raises(Exception, match="finalized"):
            db.session.execute(text(sql), {"id": invoice.id})
        db.session.rollback()
    with pytest.raises(Exception, match="finalized"):
        db.session.execute(
            text(
                "INSERT INTO billing_invoice_lines (invoice_id, description, quantity, unit_price, total, created_at,"
                " updated_at) VALUES (:id, 'x', 1, 1, 1, now(), now())"
            ),
            {"id": invoice.id},
        )
    db.session.rollback()
    # The moving columns still move.
    db.session.execute(
        text("UPDATE billing_invoices SET status = 'PARTIAL', amount_paid = 5 WHERE id = :id"), {"id": invoice.id}
    )
    db.session.rollback()


def test_status_machine_refuses_illegal_moves(ctx):
    org, _ = org_with_owner()
    draft = make_invoice(org, finalize=False)
    with pytest.raises(IllegalTransition):
        billing.transition(draft, "PAID")
    with pytest.raises(IllegalTransition):
        billing.transition(draft, "OVERDUE")
    issued = make_invoice(org)
    with pytest.raises(IllegalTransition):
        billing.transition(issued, "REFUNDED")
    billing.void_invoice(issued, None, "sent to the wrong customer")
    assert issued.status == "VOID"
    with pytest.raises(IllegalTransition):
        billing.transition(issued, "ISSUED")


def test_void_needs_a_reason_and_nothing_paid(ctx):
    org, _ = org_with_owner()
    invoice = make_invoice(org)
    with pytest.raises(DomainError, match="why"):
        billing.void_invoice(invoice, None, " ")
    billing.record_manual_payment(invoice, None, 1_000, "CASH", "R-1")
    with pytest.raises(IllegalTransition, match="credit note"):
        billing.void_invoice(invoice, None, "mistake")


def test_transitions_are_audited(ctx):
    from webapp.audit.models import AuditEntry

    org, _ = org_with_owner()
    invoice = make_invoice(org)
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == invoice.id)))
    assert {"invoice.drafted", "invoice.issued", "invoice.finalized"} <= actions


@pytest.mark.postgres
def test_concurrent_finalizations_number_without_gaps_or_duplicates(app):
    with app.app_context():
        org, _ = org_with_owner()
        ids = [make_invoice(org, finalize=False).id for _ in range(30)]
        db.session.remove()
    errors = []
    barrier = threading.Barrier(10)

    def worker(chunk):
        with app.app_context():
            try:
                barrier.wait()
                for invoice_id in chunk:
                    billing.finalize_invoice(db.session.get(Invoice, invoice_id), None, send_email=False)
                    db.session.commit()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(ids[i::10],)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with app.app_context():
        numbers = sorted(db.session.scalars(select(Invoice.number).where(Invoice.id.in_(ids))))
        year = numbers[0][4:8]
        assert numbers == [f"INV-{year}-{n:06d}" for n in range(1, 31)]


def test_a_rolled_back_finalization_leaves_no_gap(ctx):
    org, _ = org_with_owner()
    first = make_invoice(org, finalize=False)
    billing.finalize_invoice(first, None)
    db.session.rollback()
    second = make_invoice(org)
    assert second.number.endswith("-000001")


def test_line_item_validation(ctx):
    org, _ = org_with_owner()
    invoice = make_invoice(org, lines=(), finalize=False)
    with pytest.raises(DomainError, match="Describe"):
        billing.add_line_item(invoice, "", 1, 100)
    with pytest.raises(DomainError, match="Quantity"):
        billing.add_line_item(invoice, "x", 0, 100)
    line = billing.add_line_item(invoice, "Usage", 3, 250, metric="api_calls")
    assert line.total == 750 and line.metric == "api_calls"
    billing.remove_line_item(invoice, line)
    assert invoice.subtotal == 0
    assert db.session.scalar(select(InvoiceLineItem).where(InvoiceLineItem.invoice_id == invoice.id)) is None
    db.session.execute(update(Invoice).where(Invoice.id == invoice.id).values(memo="drafts may change"))
