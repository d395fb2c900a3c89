"""Dunning over time (time-machine): reminder, overdue, suspension, reactivation on payment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from tests.billing.helpers import mail_with, make_invoice, org_with_owner
from webapp.audit.models import AuditEntry
from webapp.billing import services as billing
from webapp.billing.models import Invoice, Service
from webapp.core.events import subscribe
from webapp.extensions import db

EVENTS: list[str] = []


@subscribe("invoice.overdue", "account.overdue", "account.suspended", "account.reactivated")
def _seen(event):
    EVENTS.append(event.name)


def _service(org, name="POS Terminal #1"):
    return billing.create_service(org, None, type="POS_TERMINAL", name=name, monthly_fee=2_500, hardware_serial="SN1")


def test_the_whole_dunning_path(ctx, run_jobs, mailbox):
    EVENTS.clear()
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        org, _ = org_with_owner("dunned@example.com")
        terminal = _service(org)
        maintenance = _service(org, "Maintenance")
        billing.suspend_service(maintenance, None)  # suspended by a person: stays suspended later
        invoice = make_invoice(org, lines=((1, 10_000),))
        run_jobs()
        subjects = [m["Subject"] for m in mailbox.to("dunned@example.com")]
        assert any("Invoice INV-2026-000001" in s for s in subjects), subjects
        assert invoice.due_at == start + timedelta(days=14)

        traveller.shift(timedelta(days=12))  # 2 days before due
        assert billing.run_dunning()["reminders"] == 1
        db.session.commit()
        run_jobs()
        mail_with(mailbox, "dunned@example.com", "Reminder")
        assert billing.run_dunning()["reminders"] == 0  # once only

        traveller.shift(timedelta(days=3))  # 1 day past due
        counts = billing.run_dunning()
        db.session.commit()
        assert counts["overdue"] == 1 and counts["accounts_overdue"] == 1 and counts["suspended"] == 0
        invoice = db.session.get(Invoice, invoice.id)
        account = billing.billing_account_for(org)
        assert invoice.status == "OVERDUE" and account.status == "OVERDUE"
        run_jobs()
        overdue_mail = mail_with(mailbox, "dunned@example.com", "Overdue")
        assert f"/pay/{invoice.payment_token}" in mailbox.text(overdue_mail)

        traveller.shift(timedelta(days=10))  # 11 days past due: still within the 14-day grace
        assert billing.run_dunning()["suspended"] == 0
        traveller.shift(timedelta(days=4))  # 15 days past due
        assert billing.run_dunning()["suspended"] == 1
        db.session.commit()
        account = billing.billing_account_for(org)
        assert account.status == "SUSPENDED"
        assert db.session.get(Service, terminal.id).status == "SUSPENDED"
        assert billing.run_dunning()["suspended"] == 0  # idempotent
        run_jobs()
        mail_with(mailbox, "dunned@example.com", "suspended")

        billing.record_manual_payment(invoice, None, invoice.amount_due, "BANK_TRANSFER", "CBZ-77")
        db.session.commit()
        account = billing.billing_account_for(org)
        assert invoice.status == "PAID" and account.status == "ACTIVE"
        assert db.session.get(Service, terminal.id).status == "ACTIVE"
        assert db.session.get(Service, maintenance.id).status == "SUSPENDED"
    assert EVENTS == ["invoice.overdue", "account.overdue", "account.suspended", "account.reactivated"]
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {
        "billing_account.overdue",
        "billing_account.suspended",
        "billing_account.reactivated",
        "service.suspended",
        "service.reactivated",
        "invoice.overdue",
    } <= actions


def test_partial_payment_keeps_the_account_overdue_until_all_overdue_invoices_clear(ctx):
    start = datetime(2026, 3, 1, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        org, _ = org_with_owner()
        first = make_invoice(org)
        second = make_invoice(org)
        traveller.shift(timedelta(days=20))
        billing.run_dunning()
        account = billing.billing_account_for(org)
        assert account.status == "OVERDUE"
        billing.record_manual_payment(first, None, first.amount_due, "CASH", "A")
        assert account.status == "OVERDUE"
        billing.record_manual_payment(second, None, 100, "CASH", "B")
        assert second.status == "OVERDUE" and account.status == "OVERDUE"
        billing.record_manual_payment(second, None, second.amount_due, "CASH", "C")
        assert account.status == "ACTIVE"


def test_grace_period_is_per_account(ctx):
    start = datetime(2026, 5, 1, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        org, _ = org_with_owner()
        account = billing.billing_account_for(org)
        billing.set_grace_period(account, None, 0)
        make_invoice(org)
        traveller.shift(timedelta(days=15))
        counts = billing.run_dunning()
        assert counts["suspended"] == 1 and account.status == "SUSPENDED"
