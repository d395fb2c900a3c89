import io
from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import make_org, make_user
from tests.support.helpers import make_desk, open_ticket
from webapp.extensions import db
from webapp.settings.services import update_setting
from webapp.support.models import SupportTicket


def test_open_list_filter_reply_close_reopen(app, client):
    desk = make_desk(app)
    client.login(desk.member_email)
    page = client.get(f"/o/{desk.slug}/support/")
    assert page.status_code == 200 and "No tickets yet" in page.get_data(as_text=True)

    ticket_id = open_ticket(
        client, desk.slug, attachment=(io.BytesIO(b"log line 1\nlog line 2\n"), "printer.log", "text/plain")
    )
    open_ticket(client, desk.slug, subject="Second question")
    body = client.get(f"/o/{desk.slug}/support/{ticket_id}").get_data(as_text=True)
    assert "Printer is on fire" in body and "It started this morning." in body and "printer.log" in body

    with app.app_context():
        ticket = db.session.get(SupportTicket, ticket_id)
        assert (ticket.status, ticket.priority, ticket.created_by_id) == ("OPEN", "HIGH", desk.member)
        attachment_id = ticket.attachments[0].id
    download = client.get(f"/o/{desk.slug}/support/{ticket_id}/attachments/{attachment_id}")
    assert download.status_code == 200 and download.data == b"log line 1\nlog line 2\n"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.mimetype == "application/octet-stream"

    reply = client.post(f"/o/{desk.slug}/support/{ticket_id}/reply", {"body": "Also smoke now."})
    assert reply.status_code == 303
    assert "Also smoke now." in client.get(f"/o/{desk.slug}/support/{ticket_id}").get_data(as_text=True)

    assert client.post(f"/o/{desk.slug}/support/{ticket_id}/close").status_code == 303
    listing = client.get(f"/o/{desk.slug}/support/?status=CLOSED").get_data(as_text=True)
    assert "Printer is on fire" in listing and "Second question" not in listing
    active = client.get(f"/o/{desk.slug}/support/?status=active", htmx=True).get_data(as_text=True)
    assert "Second question" in active and "Printer is on fire" not in active and "<html" not in active

    refused = client.post(f"/o/{desk.slug}/support/{ticket_id}/reply", {"body": "hello?"})
    assert refused.status_code == 422 and "closed" in refused.get_data(as_text=True)

    client.post(f"/o/{desk.slug}/support/{ticket_id}/reopen")
    with app.app_context():
        ticket = db.session.get(SupportTicket, ticket_id)
        assert ticket.status == "OPEN" and ticket.closed_at is None and ticket.resolved_at is None


def test_reopen_only_within_the_window(app, client):
    desk = make_desk(app)
    client.login(desk.owner_email)
    ticket_id = open_ticket(client, desk.slug)
    client.post(f"/o/{desk.slug}/support/{ticket_id}/close")
    with app.app_context():
        ticket = db.session.get(SupportTicket, ticket_id)
        ticket.closed_at = ticket.closed_at - timedelta(days=15)  # closed 15 days ago
        db.session.commit()
    response = client.post(f"/o/{desk.slug}/support/{ticket_id}/reopen", follow_redirects=True)
    assert "more than 14 days ago" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SupportTicket, ticket_id).status == "CLOSED"
        ticket = db.session.get(SupportTicket, ticket_id)
        ticket.closed_at = ticket.closed_at + timedelta(days=2)  # 13 days ago: still within the window
        db.session.commit()
    client.post(f"/o/{desk.slug}/support/{ticket_id}/reopen")
    with app.app_context():
        assert db.session.get(SupportTicket, ticket_id).status == "OPEN"


def test_bad_input_is_a_message_not_a_half_write(app, client):
    desk = make_desk(app)
    with app.app_context():
        update_setting("support.attachment_max_kb", "1", None)
        db.session.commit()
    client.login(desk.owner_email)
    big = client.post(
        f"/o/{desk.slug}/support/new",
        {"subject": "Big", "description": "x", "priority": "LOW", "attachment": (io.BytesIO(b"x" * 2048), "a.bin")},
        content_type="multipart/form-data",
    )
    assert big.status_code == 422 and "too large" in big.get_data(as_text=True)
    empty = client.post(f"/o/{desk.slug}/support/new", {"subject": "", "description": "", "priority": "LOW"})
    assert empty.status_code == 422
    odd = client.post(f"/o/{desk.slug}/support/new", {"subject": "s", "description": "d", "priority": "PANIC"})
    assert odd.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(SupportTicket.id))) == 0


def test_other_org_and_billing_role_cannot_reach_tickets(app, client, make_client):
    desk = make_desk(app)
    client.login(desk.owner_email)
    ticket_id = open_ticket(client, desk.slug)
    with app.app_context():
        outsider = make_user("outsider@example.com")
        other = make_org(outsider, "Other", "other-co")
        from tests.factories import add_member

        billing = make_user("billing@customer.example")
        add_member(db.session.get(type(other), desk.org), billing, "BILLING")
    stranger = make_client()
    stranger.login("outsider@example.com")
    assert stranger.get(f"/o/{desk.slug}/support/{ticket_id}").status_code == 404
    assert stranger.get(f"/o/other-co/support/{ticket_id}").status_code == 404
    assert stranger.post(f"/o/other-co/support/{ticket_id}/reply", {"body": "hi"}).status_code == 404
    biller = make_client()
    biller.login("billing@customer.example")
    assert biller.get(f"/o/{desk.slug}/support/").status_code == 403
    assert client.get("/admin/support/").status_code == 404  # the console does not exist for customers
