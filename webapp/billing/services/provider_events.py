"""Provider events (webhooks and callbacks): recorded once per provider and event id, handled by a job.

The webhook route only verifies (signature or hash), records and answers; ``record_event`` inserts
with ``ON CONFLICT DO NOTHING``, so the same delivery arriving twenty times at once is one row and
one job. ``handle_event`` runs in that job, under a row lock, and marks the event PROCESSED (or
IGNORED, or FAILED with the reason) in the same transaction as its effects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import stripe
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from webapp.billing.payment_models import (
    EVENT_FAILED,
    EVENT_IGNORED,
    EVENT_PROCESSED,
    EVENT_RECEIVED,
    ProviderEvent,
)
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.providers.client import ProviderError

RETRYABLE = (ProviderError, stripe.APIConnectionError, stripe.RateLimitError)

log = logging.getLogger(__name__)

# provider name -> handler(event) -> True (acted), False (nothing to do for us)
EVENT_HANDLERS: dict[str, Callable[[ProviderEvent], bool]] = {}


def record_event(provider: str, event_id: str, type_: str, payload: dict, *, payment_id: int | None = None) -> bool:
    """Record a verified event; True (and its job queued after the commit) when it is new."""
    from webapp.billing.payment_jobs import handle_provider_event

    values = dict(
        provider=provider,
        event_id=event_id[:128],
        type=type_[:64],
        payload=payload,
        status=EVENT_RECEIVED,
        payment_id=payment_id,
        received_at=utcnow(),
    )
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(ProviderEvent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(ProviderEvent.id)
    )
    new_id = db.session.execute(stmt).scalar()
    if new_id is None:
        return False  # a repeated delivery: recorded and handled already (or being handled)
    handle_provider_event.delay(new_id)
    return True


def handle_event(event_id: int) -> str | None:
    """Handle one recorded event once; returns its final status. A provider that does not answer
    raises (the job retries); any other failure marks the event FAILED with the reason."""
    stmt = select(ProviderEvent).where(ProviderEvent.id == event_id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    event = db.session.scalar(stmt)
    if event is None or event.status != EVENT_RECEIVED:
        return None if event is None else event.status
    handler = EVENT_HANDLERS.get(event.provider)
    try:
        acted = handler(event) if handler is not None else False
    except RETRYABLE:
        db.session.rollback()
        raise  # the provider did not answer: the job is retried with backoff, the event stays RECEIVED
    except Exception as error:
        log.exception("provider event %s failed", event_id)
        db.session.rollback()
        event = db.session.get(ProviderEvent, event_id)
        event.status, event.error = EVENT_FAILED, f"{type(error).__name__}: {error}"[:1000]
    else:
        event = db.session.get(ProviderEvent, event_id)  # a handler may have committed part-way
        event.status = EVENT_PROCESSED if acted else EVENT_IGNORED
    event.processed_at = utcnow()
    return event.status
