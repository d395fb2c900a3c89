"""Notifications for what other domains report through domain events.

Handlers rely only on the event's ``org_id`` and the ids in its data: a row that is gone means a
plainer message, and a handler that fails is logged and rolled back to its savepoint, never an error
in the emitter's transaction.
"""

from __future__ import annotations

import logging

from flask import url_for
from sqlalchemy import select

from webapp.core.access import roles_with
from webapp.core.events import Event, batch_form_of, subscribe
from webapp.core.terms import N_
from webapp.extensions import db
from webapp.notifications.services import BOTH, notify, register_type

log = logging.getLogger(__name__)

BILLING_ROLES = roles_with("billing")
MANAGER_ROLES = roles_with("members")  # those who run the organization


def members_with_roles(org_id: int | None, roles: tuple[str, ...]) -> list[int]:
    from webapp.orgs.models import Membership

    if org_id is None:
        return []
    return list(
        db.session.scalars(
            select(Membership.user_id).where(Membership.organization_id == org_id, Membership.role.in_(roles))
        )
    )


def lookup(model, object_id):
    """The row ``object_id`` of ``model``, or None when the event names none or the row is gone."""
    if object_id is None:
        return None
    return db.session.get(model, int(object_id))


def org_link(org_id: int | None, endpoint: str, **values) -> str | None:
    """A path inside the organization (None without one). A wrong endpoint raises: the handler's
    savepoint logs it, where a fallback once sent every invoice notice to the dashboard unseen."""
    from webapp.orgs.models import Organization

    org = db.session.get(Organization, org_id) if org_id else None
    if org is None:
        return None
    return url_for(endpoint, slug=org.slug, _external=False, **values)


def first_label(row, *attrs, default: str) -> str:
    for attr in attrs:
        value = getattr(row, attr, None) if row is not None else None
        if value:
            return str(value)
    return default


def safe_handler(handler):
    """Run inside a savepoint: a failed handler (a bad id in the event) rolls back only the
    notification, never the emitter's transaction."""

    def wrapped(event: Event) -> None:
        try:
            with db.session.begin_nested():
                handler(event)
        except Exception:  # a notification must never break the emitter's work
            log.exception("notification handler for %s failed", event.name)

    wrapped.__name__ = handler.__name__
    return wrapped


# --- billing: owners, admins and billing members --------------------------------------------------


def has_members_with_roles(org_id: int | None, roles: tuple[str, ...]) -> bool:
    """One cheap indexed query: does anyone in the organization hold one of ``roles``?"""
    from webapp.orgs.models import Membership

    if org_id is None:
        return False
    return (
        db.session.scalar(
            select(Membership.user_id).where(Membership.organization_id == org_id, Membership.role.in_(roles)).limit(1)
        )
        is not None
    )


@subscribe("invoice.issued", "invoice.overdue")
def invoice_event(event: Event) -> None:
    """Billing runs emit this once per invoice: an organization with nobody to tell costs one query and
    no savepoint; otherwise the full notice below."""
    if not has_members_with_roles(event.org_id, BILLING_ROLES):
        return
    _invoice_notice(event)


@batch_form_of(invoice_event)
def invoice_events(events: list[Event]) -> None:
    """A billing run's invoices: one query for the organizations that have someone to tell."""
    from webapp.orgs.models import Membership

    org_ids = {e.org_id for e in events if e.org_id is not None}
    if not org_ids:
        return
    told = set(
        db.session.scalars(
            select(Membership.organization_id)
            .where(Membership.organization_id.in_(org_ids), Membership.role.in_(BILLING_ROLES))
            .distinct()
        )
    )
    for event in events:
        if event.org_id in told:
            _invoice_notice(event)


@safe_handler
def _invoice_notice(event: Event) -> None:
    invoice_id = event.data.get("invoice_id")
    from webapp.billing.models import Invoice

    invoice = lookup(Invoice, invoice_id)
    number = first_label(invoice, "number", default=f"#{invoice_id}" if invoice_id else "")
    if event.name == "invoice.issued":
        title, body = f"Invoice {number} was issued", "A new invoice is ready to view and pay."
    else:
        title, body = f"Invoice {number} is overdue", "Please pay it to keep your services running."
    link = org_link(event.org_id, "billing.invoice_detail", invoice_id=invoice_id) if invoice_id else None
    notify(
        members_with_roles(event.org_id, BILLING_ROLES), event.name, title, body, link, org=event.org_id, about=invoice
    )


@subscribe("payment.received", "payment.failed")
@safe_handler
def payment_event(event: Event) -> None:
    payment_id = event.data.get("payment_id")
    if event.name == "payment.received":
        title, body = "Payment received", "Thank you: your payment was recorded."
    else:
        title, body = "A payment failed", "The payment could not be completed. Check your payment details."
    link = org_link(event.org_id, "billing.overview")
    notify(members_with_roles(event.org_id, BILLING_ROLES), event.name, title, body, link, org=event.org_id)
    log.debug("payment %s", payment_id)


@subscribe("account.suspended")
@safe_handler
def account_suspended(event: Event) -> None:
    link = org_link(event.org_id, "billing.overview")
    notify(
        members_with_roles(event.org_id, BILLING_ROLES),
        "account.suspended",
        "Services are suspended",
        "The account is suspended for an overdue balance. Paying the balance reactivates it.",
        link,
        org=event.org_id,
    )


# --- integrations: whoever connected it ---------------------------------------------------------


@subscribe("connection.expired", "sync.failed")
@safe_handler
def integration_event(event: Event) -> None:
    connection_id = event.data.get("connection_id")
    from webapp.integrations.models import Connection

    connection = lookup(Connection, connection_id)
    owner = getattr(connection, "created_by_id", None)
    recipients = [owner] if owner else members_with_roles(event.org_id, MANAGER_ROLES)
    provider = first_label(connection, "provider", "name", default=str(event.data.get("provider") or "An integration"))
    if event.name == "connection.expired":
        title, body = f"{provider.title()} connection expired", "Reconnect it to keep data flowing."
    else:
        title, body = f"{provider.title()} sync failed", str(event.data.get("error") or "The last sync did not finish.")
    link = org_link(event.org_id, "integrations.index")
    notify(recipients, event.name, title, body[:500], link, org=event.org_id)


# --- support: the customer on staff replies, the assignee on customer replies -------------------


@subscribe("ticket.replied")
@safe_handler
def ticket_replied(event: Event) -> None:
    from webapp.support.models import SupportMessage, SupportTicket

    ticket = lookup(SupportTicket, event.data.get("ticket_id"))
    message = lookup(SupportMessage, event.data.get("message_id"))
    if ticket is None or message is None or message.is_internal or message.ticket_id != ticket.id:
        return  # internal notes never reach customers, not even as a notification
    text = message.body if len(message.body) <= 1500 else message.body[:1500] + "…"
    if message.is_staff:
        link = org_link(ticket.organization_id, "support.ticket", ticket_id=ticket.id)
        recipients = (
            [ticket.created_by_id]
            if ticket.created_by_id
            else members_with_roles(ticket.organization_id, MANAGER_ROLES)
        )
        notify(
            [r for r in recipients if r != message.sender_id],
            "ticket.replied",
            f"Support replied: {ticket.subject}"[:200],
            text,
            link,
            org=ticket.organization_id,
            about=ticket,
        )
    elif ticket.assigned_to_id and ticket.assigned_to_id != message.sender_id:
        notify(
            ticket.assigned_to_id,
            "ticket.customer_replied",
            f"Customer replied: {ticket.subject}"[:200],
            text,
            url_for("support_admin.ticket", ticket_id=ticket.id),
            org=None,
            about=ticket,
        )


# --- billing: a saved card about to expire -------------------------------------------------------

register_type("payment_method.expiring", N_("A saved card is about to expire"), BOTH)


@subscribe("payment_method.expiring")
def card_expiring(event: Event) -> None:
    """The owners and billing members hear of it in the app (the organization's e-mail is billing's)."""
    notify(
        members_with_roles(event.org_id, roles_with("payment_methods")),
        event.name,
        event.data["title"],
        event.data["body"],
        event.data["link"],
        org=event.org_id,
    )
