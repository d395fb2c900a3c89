import time_machine
from sqlalchemy import select

from tests.support.helpers import make_desk, open_ticket
from webapp.extensions import db
from webapp.notifications.models import Notification
from webapp.support import jobs, services
from webapp.support.models import SupportTicket


def test_staff_flow_assign_reply_status_and_emails(app, client, make_client, mailbox, run_jobs):
    desk = make_desk(app)
    client.login(desk.member_email)
    ticket_id = open_ticket(client, desk.slug)
    run_jobs()
    mailbox.clear()

    staff = make_client()
    staff.login(desk.staff_email)
    queue = staff.get("/admin/support/?assignee=unassigned").get_data(as_text=True)
    assert "Printer is on fire" in queue and "Customer Co" in queue and "response-figures" in queue
    assert staff.post(f"/admin/support/{ticket_id}/assign", {"assignee_id": "me"}).status_code == 303
    assert "Printer is on fire" not in staff.get("/admin/support/?assignee=unassigned").get_data(as_text=True)
    assert "Printer is on fire" in staff.get("/admin/support/?assignee=me&priority=HIGH&org=customer-co").get_data(
        as_text=True
    )
    assert "Printer is on fire" not in staff.get("/admin/support/?priority=LOW").get_data(as_text=True)

    staff.post(f"/admin/support/{ticket_id}/reply", {"body": "Please unplug it and tell us what happens."})
    run_jobs()
    with app.app_context():
        ticket = db.session.get(SupportTicket, ticket_id)
        assert (ticket.status, ticket.assigned_to_id) == ("WAITING_ON_CLIENT", desk.staff)
        assert ticket.first_response_at is not None
        note = db.session.scalar(select(Notification).where(Notification.user_id == desk.member))
        assert note.type == "ticket.replied" and note.link == f"/o/{desk.slug}/support/{ticket_id}"
    mail = mailbox.text(mailbox.last_to(desk.member_email))
    assert "Please unplug it" in mail and f"/o/{desk.slug}/support/{ticket_id}" in mail

    client.post(f"/o/{desk.slug}/support/{ticket_id}/reply", {"body": "Unplugged. Still smoking."})
    run_jobs()
    with app.app_context():
        assert db.session.get(SupportTicket, ticket_id).status == "IN_PROGRESS"
    assert "Still smoking" in mailbox.text(mailbox.last_to(desk.staff_email))

    bad = staff.post(f"/admin/support/{ticket_id}/status", {"status": "OPEN"}, follow_redirects=True)
    assert "cannot become open" in bad.get_data(as_text=True)
    staff.post(f"/admin/support/{ticket_id}/priority", {"priority": "URGENT"})
    staff.post(f"/admin/support/{ticket_id}/status", {"status": "RESOLVED"})
    with app.app_context():
        ticket = db.session.get(SupportTicket, ticket_id)
        assert (ticket.status, ticket.priority) == ("RESOLVED", "URGENT") and ticket.resolved_at is not None
    figures = staff.get("/admin/support/?status=all").get_data(as_text=True)
    assert "Urgent" in figures


def _service_ticket(app, desk, priority="HIGH"):
    from webapp.auth.models import User
    from webapp.orgs.models import Organization

    org, user = db.session.get(Organization, desk.org), db.session.get(User, desk.owner)
    ticket = services.open_ticket(org, user, "Timed", "A ticket on a known clock.", priority)
    db.session.commit()
    return ticket.id


def test_resolved_tickets_close_themselves_after_n_days(app, ctx):
    desk = make_desk(app)
    with time_machine.travel("2026-03-01 09:00:00+00:00", tick=False):
        ticket_id = _service_ticket(app, desk)
        services.set_status(db.session.get(SupportTicket, ticket_id), _staff(desk), "RESOLVED")
        db.session.commit()
    with time_machine.travel("2026-03-07 09:00:00+00:00", tick=False):
        assert jobs.close_resolved_tickets() == 0
    with time_machine.travel("2026-03-08 09:30:00+00:00", tick=False):
        assert jobs.close_resolved_tickets() == 1
    db.session.expire_all()
    ticket = db.session.get(SupportTicket, ticket_id)
    assert ticket.status == "CLOSED" and ticket.closed_at is not None and ticket.resolved_at is not None


def _staff(desk):
    from webapp.auth.models import User

    return db.session.get(User, desk.staff)


def test_response_figures_are_medians_per_priority(app, ctx, client):
    desk = make_desk(app)
    for reply_after in (1, 3, 8):  # hours between opening and the first staff reply
        with time_machine.travel("2026-04-01 09:00:00+00:00", tick=False):
            ticket_id = _service_ticket(app, desk)
        with time_machine.travel(f"2026-04-01 {9 + reply_after:02d}:00:00+00:00", tick=False):
            services.staff_reply(db.session.get(SupportTicket, ticket_id), _staff(desk), "On it.")
            db.session.commit()
    with time_machine.travel("2026-04-02 09:00:00+00:00", tick=False):
        services.set_status(db.session.get(SupportTicket, ticket_id), _staff(desk), "RESOLVED")
        db.session.commit()
    with time_machine.travel("2026-04-03 09:00:00+00:00", tick=False):
        figures = {f["priority"]: f for f in services.response_figures()}
    assert figures["HIGH"] == {"priority": "HIGH", "tickets": 3, "first_response_hours": 3.0, "resolution_hours": 24.0}
    assert figures["LOW"]["tickets"] == 0 and figures["LOW"]["first_response_hours"] is None
    client.login(desk.staff_email)
    page = client.get("/admin/support/").get_data(as_text=True)
    assert "response-figures" in page and "<td>High</td>" in page
