"""Domain events: the one way a domain reacts to what happened in another.

``emit("invoice.paid", org=org, invoice_id=…)`` calls every subscriber at once, inside the
emitting transaction, so their writes commit or roll back with it; a subscriber that needs slow
work enqueues a job (which starts after the commit). Subscribers register at import time:

    @subscribe("invoice.paid")
    def confirm_referral(event: Event) -> None: ...

Event names in use (keep this list current): user.signed_up, invoice.issued, invoice.overdue, invoice.paid,
invoice.voided, invoice.collection_failed, payment.succeeded, payment.received (the older name of
payment.succeeded, emitted with it), payment.failed, payment.refunded, credit_note.created,
account.overdue, account.suspended,
account.reactivated, subscription.created, subscription.changed, subscription.renewed, video.ready, video.failed,
post.published, post.failed, ticket.opened, ticket.replied, connection.expired, sync.completed, sync.failed,
usage.limit_reached, payment_method.expiring. The public event catalogue of webhooks maps them:
webapp/developers/catalog.py.

A bulk path (the billing run) emits one event per invoice with ``emit_many``: a subscriber with a
batch form (``@batch_form_of(handler)``) gets the whole list at once and does set-based work (one
query for the batch instead of one per event); the others are called once per event, as by ``emit``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Event:
    name: str
    org_id: int | None
    data: dict = field(default_factory=dict)
    actor_id: int | None = None


_subscribers: dict[str, list[Callable[[Event], None]]] = defaultdict(list)
_batch_forms: dict[Callable[[Event], None], Callable[[list[Event]], None]] = {}


def subscribe(*names: str):
    def decorator(handler: Callable[[Event], None]) -> Callable[[Event], None]:
        for name in names:
            _subscribers[name].append(handler)
        return handler

    return decorator


def emit(name: str, *, org=None, actor=None, **data) -> Event:
    event = Event(name, getattr(org, "id", org), data, getattr(actor, "id", actor))
    for handler in list(_subscribers.get(name, ())) + list(_subscribers.get("*", ())):
        handler(event)
    return event


def batch_form_of(handler: Callable[[Event], None]):
    """Register the decorated function as ``handler``'s form for a list of events (``emit_many``); it
    must do what ``handler`` would do for each of them."""

    def decorator(many: Callable[[list[Event]], None]) -> Callable[[list[Event]], None]:
        _batch_forms[handler] = many
        return many

    return decorator


def emit_many(name: str, items: list[dict], *, actor=None) -> list[Event]:
    """``emit(name, org=…, **data)`` for each of ``items`` (dicts with ``org`` and the data), each
    subscriber called once with every event if it has a batch form, else once per event."""
    events = [
        Event(
            name,
            getattr(d.get("org"), "id", d.get("org")),
            {k: v for k, v in d.items() if k != "org"},
            getattr(actor, "id", actor),
        )
        for d in items
    ]
    if not events:
        return events
    for handler in list(_subscribers.get(name, ())) + list(_subscribers.get("*", ())):
        many = _batch_forms.get(handler)
        if many is not None:
            many(events)
            continue
        for event in events:
            handler(event)
    return events
