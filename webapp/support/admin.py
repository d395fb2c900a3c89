"""The staff queue at /admin/support: filters, assignment, status, priority, replies and internal notes."""

from __future__ import annotations

from flask import request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from webapp.core.htmx import render
from webapp.core.pagination import page_arg, paginate
from webapp.core.parsing import int_or_none
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.support import admin_bp
from webapp.support import services as desk
from webapp.support.forms import AssignForm, PriorityForm, StaffReplyForm, StatusForm
from webapp.support.models import PRIORITIES, STATUS_LABELS, STATUSES, UNRESOLVED, SupportMessage, SupportTicket
from webapp.support.routes import download


def _filters() -> dict:
    args = request.args
    return {
        "status": args.get("status", "active"),
        "priority": args.get("priority", ""),
        "assignee": args.get("assignee", ""),
        "org": args.get("org", "").strip(),
    }


def _queue_stmt(f: dict):
    from webapp.orgs.models import Organization

    stmt = select(SupportTicket)
    if f["status"] in STATUSES:
        stmt = stmt.where(SupportTicket.status == f["status"])
    elif f["status"] == "active":
        stmt = stmt.where(SupportTicket.status.in_(UNRESOLVED))
    if f["priority"] in PRIORITIES:
        stmt = stmt.where(SupportTicket.priority == f["priority"])
    if f["assignee"] == "unassigned":
        stmt = stmt.where(SupportTicket.assigned_to_id.is_(None))
    elif f["assignee"] == "me":
        stmt = stmt.where(SupportTicket.assigned_to_id == current_user.id)
    elif int_or_none(f["assignee"]) is not None:
        stmt = stmt.where(SupportTicket.assigned_to_id == int_or_none(f["assignee"]))
    if f["org"]:
        org_ids = select(Organization.id).where(
            (Organization.slug == f["org"]) | (Organization.name.ilike(f"%{f['org']}%"))
        )
        stmt = stmt.where(SupportTicket.organization_id.in_(org_ids))
    return stmt


@admin_bp.get("/")
def queue():
    f = _filters()
    priority_rank = {p: i for i, p in enumerate(reversed(PRIORITIES))}
    page = paginate(_queue_stmt(f).order_by(SupportTicket.id.desc()), page_arg(request.args.get("page")), 50)
    return render(
        "support/admin_queue.html",
        block="queue",
        page=page,
        filters=f,
        statuses=STATUSES,
        labels=STATUS_LABELS,
        priorities=PRIORITIES,
        staff=desk.staff_members(),
        figures=desk.response_figures(),
        open_tickets=desk.open_ticket_count(),
        priority_rank=priority_rank,
    )


def _ticket_or_404(ticket_id: int) -> SupportTicket:
    ticket = db.session.get(SupportTicket, ticket_id)
    if ticket is None:
        from flask import abort

        abort(404)
    return ticket


def _messages(ticket_id: int) -> list[SupportMessage]:
    return list(
        db.session.scalars(
            select(SupportMessage).where(SupportMessage.ticket_id == ticket_id).order_by(SupportMessage.id)
        )
    )


def _page(ticket, form=None, status=200):
    """The ticket page; htmx asking for ``staff_thread`` (the thread's live refresh) gets that block only."""
    assign = AssignForm(assignee_id=str(ticket.assigned_to_id or ""))
    assign.assignee_id.choices = [
        SelectChoice("", "Nobody"),
        *[SelectChoice(str(u.id), u.email) for u in desk.staff_members()],
    ]
    return render(
        "support/admin_ticket.html",
        block="staff_thread",
        ticket=ticket,
        messages=_messages(ticket.id),
        form=form or StaffReplyForm(),
        assign_form=assign,
        status_form=StatusForm(status=ticket.status),
        priority_form=PriorityForm(priority=ticket.priority),
        status=status,
    )


@admin_bp.get("/<int:ticket_id>")
def ticket(ticket_id):
    return _page(_ticket_or_404(ticket_id))


@admin_bp.get("/<int:ticket_id>/thread")
def thread(ticket_id):
    # Opened without htmx (a bookmark, a new tab) this is the whole ticket page, with every form it needs.
    return _page(_ticket_or_404(ticket_id))


@admin_bp.post("/<int:ticket_id>/reply")
def reply(ticket_id):
    ticket = _ticket_or_404(ticket_id)
    form = StaffReplyForm()
    if not form.validate_on_submit():
        return _page(ticket, form, status=422)
    return perform(
        lambda: desk.staff_reply(
            ticket, current_user.user, form.body.data, form.internal.data, form.status.data or None
        ),
        then=url_for("support_admin.ticket", ticket_id=ticket.id),
        success="Internal note added." if form.internal.data else "Reply sent to the customer.",
        form=form,
        field="body",
        failed=lambda _: _page(ticket, form, status=422),
    )


def _change(ticket, action, *args, done: str):
    return perform(
        lambda: action(ticket, current_user.user, *args),
        then=url_for("support_admin.ticket", ticket_id=ticket.id),
        success=done,
    )


@admin_bp.post("/<int:ticket_id>/assign")
def assign(ticket_id):
    ticket = _ticket_or_404(ticket_id)
    raw = request.form.get("assignee_id", "")
    assignee_id = current_user.id if raw == "me" else int_or_none(raw)
    return _change(ticket, desk.assign, assignee_id, done="Assignment saved.")


@admin_bp.post("/<int:ticket_id>/status")
def status(ticket_id):
    ticket = _ticket_or_404(ticket_id)
    return _change(ticket, desk.set_status, request.form.get("status", ""), done="Status changed.")


@admin_bp.post("/<int:ticket_id>/priority")
def priority(ticket_id):
    ticket = _ticket_or_404(ticket_id)
    return _change(ticket, desk.set_priority, request.form.get("priority", ""), done="Priority changed.")


@admin_bp.get("/<int:ticket_id>/attachments/<int:attachment_id>")
def attachment(ticket_id, attachment_id):
    return download(_ticket_or_404(ticket_id), attachment_id)
