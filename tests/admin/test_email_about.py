"""The e-mail log names what each message was about (invoice, ticket, invitation…) and links to its
console page, and records when and why a delivery failed."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import select

from tests.billing.helpers import make_invoice
from tests.factories import make_org, make_user
from webapp.extensions import db
from webapp.mail import send_email
from webapp.mail.jobs import deliver_email
from webapp.mail.models import EmailMessage


@pytest.fixture
def setup(ctx, make_client):
    owner = make_user("owner@mails.example", name="Olga Owner")
    org = make_org(owner, "Mails Co", "mails-co")
    make_user("ops@mails.example", staff=True)
    staff = make_client()
    staff.login("ops@mails.example")
    customer = make_client()
    customer.login("owner@mails.example")
    return owner, org, staff, customer


def _messages(about_type):
    db.session.expire_all()
    return db.session.scalars(select(EmailMessage).where(EmailMessage.about_type == about_type)).all()


def test_each_message_links_to_what_it_was_about(setup, run_jobs):
    from webapp.support import services as support

    owner, org, staff, customer = setup
    customer.post(f"/o/{org.slug}/members/invite", {"email": "new@mails.example", "role": "MEMBER"})
    [invitation_mail] = _messages("Invitation")
    assert invitation_mail.to_address == "new@mails.example"

    invoice = make_invoice(org)
    run_jobs()
    invoice_mails = _messages("Invoice")
    assert invoice_mails and {m.about_id for m in invoice_mails} == {invoice.id}

    ticket = support.open_ticket(org, owner, "Printer jam", "Terminal 3 jams on every receipt.")
    db.session.commit()
    support.staff_reply(ticket, make_user("agent@mails.example", staff=True), "We are sending a technician.")
    db.session.commit()
    run_jobs()
    [ticket_mail] = _messages("SupportTicket")
    assert ticket_mail.about_id == ticket.id

    log = staff.get("/admin/emails").get_data(as_text=True)
    assert f'href="/admin/invoices/{invoice.id}"' in log and f"Billing invoice #{invoice.id}" not in log
    assert f"Invoice #{invoice.id}" in log
    assert f'href="/admin/support/{ticket.id}">Support ticket #{ticket.id}' in log
    assert f'href="/admin/orgs/{org.id}">Invitation #{invitation_mail.about_id}' in log
    detail = staff.get(f"/admin/emails/{ticket_mail.id}").get_data(as_text=True)
    assert f"Support ticket #{ticket.id}" in detail


def test_a_failed_delivery_records_when_and_why_and_a_resend_clears_it(setup, app):
    owner, _org, staff, _customer = setup
    message = send_email(owner.email, "auth/verify", subject="Confirm", about=owner, link="http://x/y", name="O")
    db.session.commit()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    before = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = port
    try:
        with pytest.raises(OSError):
            deliver_email(message.id)
    finally:
        app.config["MAIL_PORT"] = before
    db.session.expire_all()
    failed = db.session.get(EmailMessage, message.id)
    assert failed.status == "FAILED" and failed.failed_at is not None and "ConnectionRefusedError" in failed.error
    page = staff.get(f"/admin/emails/{message.id}").get_data(as_text=True)
    assert "Failed</dt>" in page and "ConnectionRefusedError" in page
    assert f'href="/admin/users/{owner.id}">User #{owner.id}' in page
    assert "failed " in staff.get("/admin/emails?status=FAILED").get_data(as_text=True)
    assert staff.post(f"/admin/emails/{message.id}/resend").status_code == 303
    db.session.expire_all()
    again = db.session.get(EmailMessage, message.id)
    assert again.failed_at is None and again.error is None


def test_customers_never_reach_the_email_log(setup):
    _owner, _org, _staff, customer = setup
    assert customer.get("/admin/emails").status_code == 404
