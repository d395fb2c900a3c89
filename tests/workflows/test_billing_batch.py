"""The billing run bills approved workflow lines through its batch source, exactly once."""

from sqlalchemy import select

from tests.factories import make_org, make_user
from webapp.extensions import db


def test_billing_run_bills_approved_workflow_lines_once(ctx):
    from webapp.billing.models import Invoice
    from webapp.billing.services import billing_account_for, run_billing
    from webapp.workflows.models import PendingInvoiceLine

    org, other = make_org(make_user()), make_org(make_user())
    for owner_org, description, amount, status, currency in (
        (org, "Setup work", 2550, PendingInvoiceLine.APPROVED, "USD"),
        (org, "Awaiting approval", 999, PendingInvoiceLine.PENDING, "USD"),
        (org, "Other currency", 777, PendingInvoiceLine.APPROVED, "ZWG"),
        (other, "Other org's work", 1200, PendingInvoiceLine.APPROVED, "USD"),
    ):
        db.session.add(
            PendingInvoiceLine(
                organization_id=owner_org.id,
                description=description,
                amount_cents=amount,
                status=status,
                currency=currency,
            )
        )
    account, other_account = billing_account_for(org), billing_account_for(other)
    db.session.commit()

    run_billing("2026-10", send_emails=False)
    db.session.commit()
    invoices = {
        inv.account_id: inv for inv in db.session.scalars(select(Invoice).where(Invoice.run_period == "2026-10"))
    }
    billed = [(line.description, line.total) for line in invoices[account.id].lines if line.metric == "workflow_line"]
    assert billed == [("Setup work", 2550)]
    assert [(line.description, line.total) for line in invoices[other_account.id].lines] == [("Other org's work", 1200)]
    lines = {line.description: line for line in db.session.scalars(select(PendingInvoiceLine))}
    assert lines["Setup work"].billing_reference == "billing run 2026-10-01..2026-10-31"
    assert lines["Awaiting approval"].billing_reference is None and lines["Other currency"].billing_reference is None

    run_billing("2026-11", send_emails=False)  # already billed lines are not billed again
    db.session.commit()
    assert db.session.scalar(select(Invoice).where(Invoice.run_period == "2026-11")) is None
