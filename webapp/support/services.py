"""Support rules: opening, replying, internal notes, the status flow, assignment, auto-close, figures.

Status flow: OPEN → IN_PROGRESS → WAITING_ON_CLIENT → RESOLVED → CLOSED. A customer reply to a
ticket WAITING_ON_CLIENT (or RESOLVED) moves it back to IN_PROGRESS. RESOLVED closes itself after
``support.auto_close_days``; customers may reopen within ``support.reopen_window_days``.
"""

from __future__ import annotations

from datetime import timedelta
from statistics import median

from sqlalchemy import select

from webapp.audit import record
from webapp.core.errors import DomainError, IllegalTransition
from webapp.core.events import emit
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.settings import define, get
from webapp.support import storage
from webapp.support.models import (
    CLOSED,
    IN_PROGRESS,
    OPEN,
    PRIORITIES,
    RESOLVED,
    STATUS_LABELS,
    STATUSES,
    WAITING_ON_CLIENT,
    SupportAttachment,
    SupportMessage,
    SupportTicket,
)

define("support.auto_close_days", int, 7, "Days after which a resolved ticket closes itself", minimum=1, maximum=365)
define("support.reopen_window_days", int, 14, "Days a customer may reopen a resolved or closed ticket", minimum=0)
define("support.attachment_max_kb", int, 5120, "Largest attachment on a ticket, in KiB", minimum=1, maximum=102400)

ALLOWED = {
    OPEN: {IN_PROGRESS, WAITING_ON_CLIENT, RESOLVED, CLOSED},
    IN_PROGRESS: {WAITING_ON_CLIENT, RESOLVED, CLOSED},
    WAITING_ON_CLIENT: {IN_PROGRESS, RESOLVED, CLOSED},
    RESOLVED: {IN_PROGRESS, CLOSED},
    CLOSED: {IN_PROGRESS},
}
MAX_BODY = 20000


def _text(value: str, label: str, field: str, limit: int = MAX_BODY) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(f"{label} cannot be empty.", field=field)
    if len(value) > limit:
        raise DomainError(f"{label} is too long (at most {limit} characters).", field=field)
    return value


def _priority(priority: str) -> str:
    if priority not in PRIORITIES:
        raise DomainError(f"Choose a priority: {', '.join(p.title() for p in PRIORITIES)}.", field="priority")
    return priority


def _move(ticket: SupportTicket, status: str) -> None:
    """Apply a status change and its timestamps (no permission checks here)."""
    now = utcnow()
    if status == RESOLVED:
        ticket.resolved_at = now
    elif status == CLOSED:
        ticket.resolved_at = ticket.resolved_at or now
        ticket.closed_at = now
    elif status in (OPEN, IN_PROGRESS):
        ticket.resolved_at = None
        ticket.closed_at = None
    ticket.status = status
    ticket.last_activity_at = now


# --- customers ----------------------------------------------------------------------------------


def open_ticket(org, user, subject: str, description: str, priority: str = "NORMAL", attachment=None):
    """``attachment``: None or (filename, content_type, bytes)."""
    ticket = SupportTicket(
        organization_id=org.id,
        created_by_id=user.id,
        subject=_text(subject, "The subject", "subject", 200),
        description=_text(description, "The description", "description"),
        priority=_priority(priority),
        status=OPEN,
        last_activity_at=utcnow(),
    )
    if attachment is not None:
        ticket.attachments.append(_attachment(org, user, *attachment))
    db.session.add(ticket)
    db.session.flush()
    record(user, "ticket.opened", ticket, {"priority": ticket.priority})
    emit("ticket.opened", org=org, actor=user, ticket_id=ticket.id)
    return ticket


def _attachment(org, user, filename: str, content_type: str, data: bytes) -> SupportAttachment:
    limit = get("support.attachment_max_kb") * 1024
    if not data:
        raise DomainError("The attachment is empty.", field="attachment")
    if len(data) > limit:
        raise DomainError(f"The attachment is too large (at most {limit // 1024} KiB).", field="attachment")
    key = storage.save_attachment(org.id, filename, data)
    return SupportAttachment(
        filename=(filename or "attachment")[:255],
        content_type=(content_type or "application/octet-stream")[:100],
        size=len(data),
        storage_key=key,
        uploaded_by_id=user.id,
    )


def customer_reply(ticket: SupportTicket, user, body: str) -> SupportMessage:
    if ticket.status == CLOSED:
        raise IllegalTransition("This ticket is closed. Reopen it to reply.", field="body")
    message = SupportMessage(ticket=ticket, sender_id=user.id, body=_text(body, "The reply", "body"))
    db.session.add(message)
    if ticket.status in (WAITING_ON_CLIENT, RESOLVED):
        _move(ticket, IN_PROGRESS)
    ticket.last_activity_at = utcnow()
    db.session.flush()
    record(user, "ticket.replied", ticket, {"message_id": message.id})
    emit("ticket.replied", org=ticket.organization_id, actor=user, ticket_id=ticket.id, message_id=message.id)
    return message


def close_by_customer(ticket: SupportTicket, user) -> SupportTicket:
    if ticket.status == CLOSED:
        raise IllegalTransition("This ticket is already closed.")
    _move(ticket, CLOSED)
    record(user, "ticket.closed", ticket)
    return ticket


def can_reopen(ticket: SupportTicket) -> bool:
    if ticket.status not in (RESOLVED, CLOSED):
        return False
    since = ticket.closed_at or ticket.resolved_at or ticket.updated_at
    return since is not None and utcnow() - since <= timedelta(days=get("support.reopen_window_days"))


def reopen(ticket: SupportTicket, user) -> SupportTicket:
    if ticket.status not in (RESOLVED, CLOSED):
        raise IllegalTransition("Only a resolved or closed ticket can be reopened.")
    if not can_reopen(ticket):
        raise IllegalTransition(
            f"This ticket was closed more than {get('support.reopen_window_days')} days ago. Open a new ticket instead."
        )
    _move(ticket, IN_PROGRESS if ticket.assigned_to_id else OPEN)
    record(user, "ticket.reopened", ticket)
    return ticket


# --- staff --------------------------------------------------------------------------------------


def _require_staff(user) -> None:
    if not getattr(user, "is_staff", False):
        raise DomainError("Only staff can do that.", code="forbidden")


def staff_reply(ticket: SupportTicket, staff, body: str, internal: bool = False, status: str | None = None):
    """A reply the customer sees (e-mailed and notified), or an internal note nobody outside staff sees."""
    _require_staff(staff)
    message = SupportMessage(
        ticket=ticket, sender_id=staff.id, body=_text(body, "The message", "body"), is_internal=internal, is_staff=True
    )
    db.session.add(message)
    if not internal:
        ticket.first_response_at = ticket.first_response_at or utcnow()
        target = status or (WAITING_ON_CLIENT if ticket.status in (OPEN, IN_PROGRESS) else None)
        if target and target != ticket.status:
            set_status(ticket, staff, target)
        if ticket.assigned_to_id is None:
            ticket.assigned_to_id = staff.id
    elif status and status != ticket.status:
        set_status(ticket, staff, status)
    ticket.last_activity_at = utcnow()
    db.session.flush()
    record(staff, "ticket.noted" if internal else "ticket.answered", ticket, {"message_id": message.id})
    if not internal:
        emit("ticket.replied", org=ticket.organization_id, actor=staff, ticket_id=ticket.id, message_id=message.id)
    return message


def set_status(ticket: SupportTicket, staff, status: str) -> SupportTicket:
    _require_staff(staff)
    if status not in STATUSES:
        raise DomainError("Unknown status.", field="status")
    if status == ticket.status:
        return ticket
    if status not in ALLOWED[ticket.status]:
        raise IllegalTransition(
            f"A ticket that is {STATUS_LABELS[ticket.status].lower()} cannot become {STATUS_LABELS[status].lower()}.",
            field="status",
        )
    before = ticket.status
    _move(ticket, status)
    record(staff, "ticket.status_changed", ticket, {"from": before, "to": status})
    return ticket


def set_priority(ticket: SupportTicket, staff, priority: str) -> SupportTicket:
    _require_staff(staff)
    before = ticket.priority
    ticket.priority = _priority(priority)
    record(staff, "ticket.priority_changed", ticket, {"from": before, "to": priority})
    return ticket


def staff_members() -> list:
    from webapp.auth.models import User

    return list(db.session.scalars(select(User).where(User.is_staff.is_(True)).order_by(User.email)))


def assign(ticket: SupportTicket, staff, assignee_id: int | None) -> SupportTicket:
    from webapp.auth.models import User

    _require_staff(staff)
    if assignee_id:
        assignee = db.session.get(User, assignee_id)
        if assignee is None or not assignee.is_staff:
            raise DomainError("Tickets can only be assigned to staff.", field="assignee_id")
    ticket.assigned_to_id = assignee_id or None
    if assignee_id and ticket.status == OPEN:
        _move(ticket, IN_PROGRESS)
    record(staff, "ticket.assigned", ticket, {"assignee_id": assignee_id})
    return ticket


def auto_close_resolved() -> int:
    """Close tickets that have been RESOLVED for ``support.auto_close_days``; returns how many."""
    cutoff = utcnow() - timedelta(days=get("support.auto_close_days"))
    tickets = db.session.scalars(
        select(SupportTicket)
        .where(SupportTicket.status == RESOLVED, SupportTicket.resolved_at < cutoff)
        .with_for_update(skip_locked=True)
    ).all()
    for ticket in tickets:
        _move(ticket, CLOSED)
        record(None, "ticket.auto_closed", ticket)
    return len(tickets)


# --- figures ------------------------------------------------------------------------------------


def response_figures(days: int = 90) -> list[dict]:
    """Median first response and resolution time (hours) per priority, over tickets opened in ``days``."""
    since = utcnow() - timedelta(days=days)
    rows = db.session.execute(
        select(
            SupportTicket.priority, SupportTicket.created_at, SupportTicket.first_response_at, SupportTicket.resolved_at
        ).where(SupportTicket.created_at >= since)
    ).all()
    figures = []
    for priority in reversed(PRIORITIES):
        mine = [r for r in rows if r.priority == priority]
        first = [(r.first_response_at - r.created_at).total_seconds() / 3600 for r in mine if r.first_response_at]
        solved = [(r.resolved_at - r.created_at).total_seconds() / 3600 for r in mine if r.resolved_at]
        figures.append(
            {
                "priority": priority,
                "tickets": len(mine),
                "first_response_hours": round(median(first), 1) if first else None,
                "resolution_hours": round(median(solved), 1) if solved else None,
            }
        )
    return figures


def open_ticket_count() -> int:
    """Tickets not yet resolved, across organizations: the console's one "open tickets" figure."""
    from sqlalchemy import func, select

    from webapp.support.models import UNRESOLVED, SupportTicket

    return db.session.scalar(select(func.count(SupportTicket.id)).where(SupportTicket.status.in_(UNRESOLVED))) or 0
