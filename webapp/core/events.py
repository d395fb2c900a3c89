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
