"""Tenancy sweep: one ticket and one attachment in ``org`` for the /o/<slug>/support/ routes."""

from __future__ import annotations

from webapp.extensions import db
from webapp.support import services


def _ticket(org, user):
    ticket = services.open_ticket(
        org, user, "Sweep sample", "A ticket the sweep must not reach.", "NORMAL", ("note.txt", "text/plain", b"hello")
    )
    db.session.commit()
    return ticket


SAMPLES = {
    "ticket_id": lambda org, user: _ticket(org, user).id,
    "attachment_id": lambda org, user: _ticket(org, user).attachments[0].id,
}
