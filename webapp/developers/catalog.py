"""The event catalogue: one registry of the public event types, each fed by a domain event.

Every entry names the domain event it comes from (``webapp.core.events``), when it applies, and how
its object is built (as the JSON API shows it). The endpoint form's checkboxes, the subscriber, the
OpenAPI enum and the docs all read ``CATALOG``; nothing lists the types a second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from webapp.core.events import Event as DomainEvent
from webapp.core.events import batch_form_of, subscribe
from webapp.core.terms import N_
from webapp.extensions import db

API_VERSION = "2026-12-03"
TEST_TYPE = "webhook.test"


def _iso(value):
    from webapp.api.v1 import _iso as api_iso

    return api_iso(value)


# ---------------------------------------------------------------- objects


def invoice_object(event: DomainEvent) -> dict | None:
    from webapp.api.v1 import _invoice_json
    from webapp.billing.models import Invoice

    invoice = db.session.get(Invoice, event.data.get("invoice_id"))
    return None if invoice is None else {"object": "invoice", **_invoice_json(invoice, lines=True)}


def payment_object(event: DomainEvent) -> dict | None:
    from webapp.billing.models import Payment

    p = db.session.get(Payment, event.data.get("payment_id"))
    if p is None:
        return None
    return {
        "object": "payment",
        "id": p.id,
        "invoice_id": p.invoice_id,
        "amount": p.amount,
        "currency": p.currency,
        "status": p.status,
        "method": p.method,
        "provider": p.provider,
        "initiated_at": _iso(p.initiated_at),
        "completed_at": _iso(p.completed_at),
        "failed_at": _iso(p.failed_at),
        "error": event.data.get("error") or p.error_message,
    }


def credit_note_object(event: DomainEvent) -> dict | None:
    from webapp.billing.payment_models import CreditNote

    note = db.session.get(CreditNote, event.data.get("credit_note_id"))
    if note is None:
        return None
    return {
        "object": "credit_note",
        "id": note.id,
        "number": note.number,
        "invoice_id": note.invoice_id,
        "currency": note.currency,
        "subtotal": note.subtotal,
        "tax": note.tax,
        "total": note.total,
        "reason": note.reason,
        "destination": note.destination,
        "issued_at": _iso(note.issued_at),
    }


def subscription_object(event: DomainEvent, key: str = "subscription_id") -> dict | None:
    from webapp.subscriptions.models import Subscription

    sub = db.session.get(Subscription, event.data.get(key))
    if sub is None:
        return None
    return {
        "object": "subscription",
        "id": sub.id,
        "plan": sub.plan.code,
        "status": sub.status,
        "billing_interval": sub.billing_interval,
        "amount": sub.amount,
        "currency": sub.currency,
        "current_period_start": _iso(sub.current_period_start),
        "current_period_end": _iso(sub.current_period_end),
        "trial_end": _iso(sub.trial_end),
        "cancel_at_period_end": bool(sub.cancel_at_period_end),
        "canceled_at": _iso(sub.canceled_at),
        "ended_at": _iso(sub.ended_at),
        "change": event.data.get("reason"),
    }


def ended_subscription_object(event: DomainEvent) -> dict | None:
    return subscription_object(event, "ended_subscription_id")


def ticket_object(event: DomainEvent) -> dict | None:
    from webapp.support.models import SupportMessage, SupportTicket

    ticket = db.session.get(SupportTicket, event.data.get("ticket_id"))
    message = db.session.get(SupportMessage, event.data.get("message_id"))
    if ticket is None:
        return None
    return {
        "object": "ticket",
        "id": ticket.id,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "reply": None
        if message is None
        else {"id": message.id, "from_staff": bool(message.is_staff), "created_at": _iso(message.created_at)},
    }


def post_object(event: DomainEvent) -> dict:
    keep = ("post_id", "target_id", "platform", "platform_label", "url", "reason")
    return {"object": "post_publication", **{k: event.data.get(k) for k in keep if k in event.data}}


def sync_object(event: DomainEvent) -> dict:
    return {
        "object": "sync",
        "run_type": event.data.get("run_type"),
        "run_id": event.data.get("run_id"),
        "status": event.data.get("status"),
        "counts": event.data.get("counts") or {},
    }


def limit_object(event: DomainEvent) -> dict:
    return {
        "object": "usage_limit",
        "limit": event.data.get("limit"),
        "allowed": event.data.get("allowed"),
        "usage": event.data.get("usage"),
    }


# ---------------------------------------------------------------- the registry


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    source: str  # the domain event that feeds it
    build: Callable[[DomainEvent], dict | None]
    when: Callable[[DomainEvent], bool] = lambda event: True


_CANCEL_REASONS = ("canceled", "trial_expired")
_NOT_UPDATES = (*_CANCEL_REASONS, "trial_started")  # a trial is a new subscription: subscription.created

CATALOG: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType(
            "invoice.finalized", N_("An invoice was finalized (numbered and issued)."), "invoice.issued", invoice_object
        ),
        EventType("invoice.paid", N_("An invoice was paid in full."), "invoice.paid", invoice_object),
        EventType("invoice.overdue", N_("An invoice passed its due date unpaid."), "invoice.overdue", invoice_object),
        EventType("payment.succeeded", N_("A payment was received."), "payment.succeeded", payment_object),
        EventType("payment.failed", N_("A payment failed or was cancelled."), "payment.failed", payment_object),
        EventType("credit_note.created", N_("A credit note was issued."), "credit_note.created", credit_note_object),
        EventType("subscription.created", N_("A subscription started."), "subscription.created", subscription_object),
        EventType(
            "subscription.updated",
            N_("A subscription changed plan, interval or status."),
            "subscription.changed",
            subscription_object,
            lambda e: e.data.get("reason") not in _NOT_UPDATES,
        ),
        EventType(
            "subscription.canceled",
            N_("A subscription ended (cancelled at its period end, or a trial expired)."),
            "subscription.changed",
            ended_subscription_object,
            lambda e: e.data.get("reason") in _CANCEL_REASONS,
        ),
        EventType("usage.limit_reached", N_("Usage reached a limit of the plan."), "usage.limit_reached", limit_object),
        EventType("post.published", N_("A studio post was published on a platform."), "post.published", post_object),
        EventType("post.failed", N_("A studio post could not be published."), "post.failed", post_object),
        EventType("sync.completed", N_("An integration sync finished successfully."), "sync.completed", sync_object),
        EventType("ticket.replied", N_("A support ticket got a reply."), "ticket.replied", ticket_object),
    )
}
TYPES = tuple(CATALOG)
SOURCES = tuple(sorted({t.source for t in CATALOG.values()}))


@subscribe(*SOURCES)
def record_public_events(event: DomainEvent) -> None:
    """Record each catalogue event the domain event stands for, and queue its deliveries (same transaction)."""
    if event.org_id is None:
        return
    from webapp.developers.services import record_event

    for kind in CATALOG.values():
        if kind.source != event.name or not kind.when(event):
            continue
        obj = kind.build(event)
        if obj is not None:
            record_event(event.org_id, kind.name, obj)


@batch_form_of(record_public_events)
def record_public_events_many(events: list[DomainEvent]) -> None:
    """``record_public_events`` for a list (a billing run's invoices): the public events in one
    INSERT and one query for the organizations' endpoints (``record_events``)."""
    from webapp.developers.services import record_events

    found = []
    for event in events:
        if event.org_id is None:
            continue
        for kind in CATALOG.values():
            if kind.source != event.name or not kind.when(event):
                continue
            obj = kind.build(event)
            if obj is not None:
                found.append((event.org_id, kind.name, obj))
    record_events(found)
