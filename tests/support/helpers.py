"""Shared set-up for support tests: a customer organization and a staff member."""

from __future__ import annotations

from dataclasses import dataclass

from tests.factories import add_member, make_org, make_user


@dataclass
class Desk:
    org: object
    owner: object
    member: object
    staff: object
    slug: str
    owner_email: str
    member_email: str
    staff_email: str


def make_desk(app) -> Desk:
    with app.app_context():
        owner = make_user("owner@customer.example", name="Olive Owner")
        org = make_org(owner, "Customer Co", "customer-co")
        member = make_user("member@customer.example", name="Max Member")
        add_member(org, member, "MEMBER")
        staff = make_user("agent@tessera.example", name="Ada Agent", staff=True)
        return Desk(org.id, owner.id, member.id, staff.id, org.slug, owner.email, member.email, staff.email)


def open_ticket(client, slug: str, subject: str = "Printer is on fire", **extra) -> int:
    data = {"subject": subject, "description": "It started this morning.", "priority": "HIGH", **extra}
    response = client.post(f"/o/{slug}/support/new", data, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
