"""An internal note must never reach a customer: not a page, a fragment, an e-mail, a notification or the stream."""

from sqlalchemy import select

from tests.notifications.live_helpers import EventReader, http_login
from tests.support.helpers import make_desk, open_ticket
from webapp.extensions import db
from webapp.mail.models import EmailMessage
from webapp.notifications.models import Notification
from webapp.settings.services import update_setting

MARKER = "NOTE-ONLY-STAFF-3f9c1e"


def test_internal_note_text_is_in_no_customer_visible_response(app, client, make_client, mailbox, run_jobs, web_server):
    desk = make_desk(app)
    client.login(desk.owner_email)
    ticket_id = open_ticket(client, desk.slug)
    staff = make_client()
    staff.login(desk.staff_email)
    staff.post(f"/admin/support/{ticket_id}/assign", {"assignee_id": "me"})
    assert (
        staff.post(
            f"/admin/support/{ticket_id}/reply", {"body": f"{MARKER} customer is VIP", "internal": "y"}
        ).status_code
        == 303
    )
    staff.post(
        f"/admin/support/{ticket_id}/reply",
        {"body": f"second {MARKER}", "internal": "y", "status": "WAITING_ON_CLIENT"},
    )
    assert MARKER in staff.get(f"/admin/support/{ticket_id}").get_data(as_text=True)  # staff do see it
    assert MARKER in staff.get(f"/admin/support/{ticket_id}/thread", htmx=True).get_data(as_text=True)

    with app.app_context():
        update_setting("notifications.heartbeat_seconds", "1", None)
        db.session.commit()
    stream_client = http_login(web_server, desk.owner_email)  # the live stream: the run shape's web process
    with stream_client.stream("GET", "/notifications/stream?client=leak") as response:
        events = EventReader(response)
        seen = [events.next_event("count")]
        staff.post(f"/admin/support/{ticket_id}/reply", {"body": "A public answer."})
        seen += list(events.first_of_each("count", "notification").values())
    stream_client.close()
    assert "A public answer" not in "".join(seen)  # the stream carries titles, never bodies
    client.post(f"/o/{desk.slug}/support/{ticket_id}/reply", {"body": "Thanks!"})
    run_jobs()

    member = make_client()
    member.login(desk.member_email)
    responses = []
    for who in (client, member):
        for url in (
            f"/o/{desk.slug}/",
            f"/o/{desk.slug}/support/",
            f"/o/{desk.slug}/support/?status=IN_PROGRESS",
            f"/o/{desk.slug}/support/?status=active",
            f"/o/{desk.slug}/support/{ticket_id}",
            "/notifications/",
            "/notifications/?show=unread",
            "/notifications/count",
            "/notifications/preferences",
        ):
            responses.append(who.get(url))
            responses.append(who.get(url, htmx=True))
        responses.append(who.get(f"/o/{desk.slug}/support/{ticket_id}/thread", htmx=True))
        responses.append(who.get(f"/o/{desk.slug}/support/{ticket_id}", htmx=True, headers={"HX-Target": "thread"}))
    for response in responses:
        assert response.status_code == 200, response.request.path
        assert MARKER not in response.get_data(as_text=True), response.request.path
    assert any("A public answer." in r.get_data(as_text=True) for r in responses)  # the sweep saw the thread

    customer_mail = mailbox.to(desk.owner_email) + mailbox.to(desk.member_email)
    assert customer_mail, "the public reply was e-mailed"
    for message in customer_mail:
        assert MARKER not in message.as_string()
    with app.app_context():
        rows = db.session.scalars(select(EmailMessage).where(EmailMessage.to_address != desk.staff_email)).all()
        assert rows and all(MARKER not in r.html_body + r.text_body + r.subject for r in rows)
        notes = db.session.scalars(select(Notification)).all()
        assert all(MARKER not in (n.title + n.body) for n in notes)
