"""Demo tickets: one waiting on the customer with a thread and an internal note, one open, one resolved."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from webapp.auth.services import find_user_by_email
from webapp.core.models import utcnow
from webapp.demo import step
from webapp.extensions import db
from webapp.orgs.demo import STAFF_EMAIL, demo_org
from webapp.support import services
from webapp.support.models import SupportTicket


def _exists(org, subject: str) -> bool:
    return (
        db.session.scalar(
            select(SupportTicket.id).where(SupportTicket.organization_id == org.id, SupportTicket.subject == subject)
        )
        is not None
    )


@step(order=70)
def support_tickets() -> None:
    staff = find_user_by_email(STAFF_EMAIL)
    org = demo_org("harare-retail")
    if staff is None or org is None:
        return
    customer = find_user_by_email("member@harare-retail.example") or find_user_by_email("owner@harare-retail.example")
    subject = "Till 3 prints blank receipts"
    if not _exists(org, subject):
        ticket = services.open_ticket(
            org,
            customer,
            subject,
            "Since this morning till 3 prints receipts with no text. Tills 1 and 2 are fine.",
            "HIGH",
        )
        ticket.created_at = utcnow() - timedelta(hours=5)
        services.assign(ticket, staff, staff.id)
        services.staff_reply(
            ticket, staff, "Customer is on the old firmware (2.1); check before sending a tech.", internal=True
        )
        services.staff_reply(
            ticket, staff, "Could you check the paper roll is loaded thermal side down, then print a test page?"
        )
        services.customer_reply(ticket, customer, "Roll was the right way round. Test page is blank too.")
        services.staff_reply(
            ticket, staff, "Thanks. Please hold the feed button for 5 seconds and send us a photo of the result."
        )
    subject = "Add a second branch to our account"
    if not _exists(org, subject):
        services.open_ticket(
            org, customer, subject, "We open in Avondale next month and need two more terminals.", "NORMAL"
        )
    foods = demo_org("bulawayo-foods")
    owner = find_user_by_email("owner@bulawayo-foods.example")
    subject = "Invoice address is wrong"
    if foods is not None and owner is not None and not _exists(foods, subject):
        ticket = services.open_ticket(foods, owner, subject, "Please use 12 Fife Street as our billing address.", "LOW")
        services.staff_reply(ticket, staff, "Updated: the next invoice will show 12 Fife Street.")
        services.set_status(ticket, staff, "RESOLVED")
