"""Customers' side of the desk at /o/<slug>/support/: internal notes are never loaded here."""

from __future__ import annotations

import io

from flask import Response, abort, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.core.access import org_object_or_404, org_view
from webapp.core.htmx import redirect, render
from webapp.core.pagination import page_arg, paginate
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.support import bp, storage
from webapp.support import services as desk
from webapp.support.forms import ReplyForm, TicketForm
from webapp.support.models import STATUS_LABELS, STATUSES, SupportAttachment, SupportMessage, SupportTicket


@bp.get("/")
@org_view("support")
def index(org):
    status = request.args.get("status", "")
    stmt = select(SupportTicket).where(SupportTicket.organization_id == org.id)
    if status in STATUSES:
        stmt = stmt.where(SupportTicket.status == status)
    elif status == "active":
        stmt = stmt.where(SupportTicket.status.not_in(("RESOLVED", "CLOSED")))
    page = paginate(stmt.order_by(SupportTicket.id.desc()), page_arg(request.args.get("page")))
    return render("support/index.html", block="ticket_list", org=org, page=page, current=status, labels=STATUS_LABELS)


@bp.route("/new", methods=["GET", "POST"])
@org_view("support")
def new(org):
    form = TicketForm()
    if not form.validate_on_submit():
        return render("support/new.html", org=org, form=form, status=422 if form.errors else 200)
    upload = form.attachment.data
    attachment = (upload.filename, upload.mimetype, upload.read()) if upload and upload.filename else None
    return perform(
        lambda: desk.open_ticket(
            org, current_user.user, form.subject.data, form.description.data, form.priority.data, attachment
        ),
        then=lambda ticket: redirect(url_for("support.ticket", slug=org.slug, ticket_id=ticket.id)),
        success="Ticket opened. We will reply here and by e-mail.",
        form=form,
        failed=lambda _: render("support/new.html", org=org, form=form, status=422),
    )


def _thread(ticket_id: int) -> list[SupportMessage]:
    """The customer-visible thread: internal notes are filtered in the query, not in the template."""
    return list(
        db.session.scalars(
            select(SupportMessage)
            .where(SupportMessage.ticket_id == ticket_id, SupportMessage.is_internal.is_(False))
            .order_by(SupportMessage.id)
        )
    )


def _page(org, ticket, form=None, status=200):
    return render(
        "support/ticket.html",
        block="thread",
        org=org,
        ticket=ticket,
        messages=_thread(ticket.id),
        form=form or ReplyForm(),
        can_reopen=desk.can_reopen(ticket),
        status=status,
    )


@bp.get("/<int:ticket_id>")
@org_view("support")
def ticket(org, ticket_id):
    return _page(org, org_object_or_404(SupportTicket, org, ticket_id))


@bp.get("/<int:ticket_id>/thread")
@org_view("support")
def thread(org, ticket_id):
    # htmx's poll gets the thread block; opened as a page it is the whole ticket page.
    return _page(org, org_object_or_404(SupportTicket, org, ticket_id))


@bp.post("/<int:ticket_id>/reply")
@org_view("support")
def reply(org, ticket_id):
    ticket = org_object_or_404(SupportTicket, org, ticket_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _page(org, ticket, form, status=422)
    return perform(
        lambda: desk.customer_reply(ticket, current_user.user, form.body.data),
        then=url_for("support.ticket", slug=org.slug, ticket_id=ticket.id),
        success="Reply sent.",
        form=form,
        field="body",
        failed=lambda _: _page(org, ticket, form, status=422),
    )


@bp.post("/<int:ticket_id>/close")
@org_view("support")
def close(org, ticket_id):
    ticket = org_object_or_404(SupportTicket, org, ticket_id)
    return perform(
        lambda: desk.close_by_customer(ticket, current_user.user),
        then=url_for("support.ticket", slug=org.slug, ticket_id=ticket.id),
        success="Ticket closed.",
    )


@bp.post("/<int:ticket_id>/reopen")
@org_view("support")
def reopen(org, ticket_id):
    ticket = org_object_or_404(SupportTicket, org, ticket_id)
    return perform(
        lambda: desk.reopen(ticket, current_user.user),
        then=url_for("support.ticket", slug=org.slug, ticket_id=ticket.id),
        success="Ticket reopened.",
    )


@bp.get("/<int:ticket_id>/attachments/<int:attachment_id>")
@org_view("support")
def attachment(org, ticket_id, attachment_id):
    ticket = org_object_or_404(SupportTicket, org, ticket_id)
    return download(ticket, attachment_id)


def download(ticket, attachment_id: int) -> Response:
    item = db.session.scalar(
        select(SupportAttachment).where(SupportAttachment.id == attachment_id, SupportAttachment.ticket_id == ticket.id)
    )
    if item is None:
        abort(404)
    try:
        data = storage.read_attachment(item.storage_key)
    except FileNotFoundError:
        abort(404)
    # Always a download, never rendered by the browser (an uploaded HTML file must not run here).
    response = send_file(
        io.BytesIO(data), mimetype="application/octet-stream", as_attachment=True, download_name=item.filename
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
