"""Provider events (webhooks and callbacks): recorded once per provider and event id, handled by a job.

The webhook route only verifies (signature or hash), records and answers; ``record_event`` inserts
with ``ON CONFLICT DO NOTHING``, so the same delivery arriving twenty times at once is one row and
one job. ``handle_event`` runs in that job, under a row lock, and marks the event PROCESSED (or
IGNORED, or FAILED with the reason) in the same transaction as its effects.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import stripe
from sqlalchemy import Insert, bindparam, null, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from webapp.billing.models import Payment
from webapp.billing.payment_models import (
    EVENT_FAILED,
    EVENT_IGNORED,
    EVENT_PROCESSED,
    EVENT_RECEIVED,
    ProviderEvent,
)
from webapp.core.errors import DomainError
from webapp.core.models import get_existing, utcnow
from webapp.extensions import db
from webapp.integrations.providers.client import ProviderError

RETRYABLE = (ProviderError, stripe.APIConnectionError, stripe.RateLimitError)

log = logging.getLogger(__name__)

# provider name -> handler(event) -> True (acted), False (nothing to do for us)
EVENT_HANDLERS: dict[str, Callable[[ProviderEvent], bool]] = {}


class UnknownPayment(DomainError):
    """A verified callback about a payment we never started: nothing is kept."""

    status = 404
    code = "unknown_reference"


def event_insert(
    provider: str,
    event_id: str,
    type_: str,
    payload: dict,
    *,
    payment_reference: str | None = None,
    dialect: str | None = None,
) -> tuple[Insert, dict]:
    """The one statement that records an event and its parameters: ``INSERT … ON CONFLICT DO NOTHING
    RETURNING id, payment_id`` (no row: a repeated delivery). With ``payment_reference`` the row names
    the provider's payment of that reference (NULL: not ours). Run by ``record_event`` and, on the
    event loop, by ``webapp.billing.receiver``; the statement is built once (bound parameters), so a
    burst of callbacks spends nothing on building and compiling it again."""
    dialect = dialect or db.session.get_bind().dialect.name
    params = {
        "provider": provider,
        "event_id": event_id[:128],
        "type": type_[:64],
        "payload": payload,
        "status": EVENT_RECEIVED,
        "received_at": utcnow(),
    }
    if payment_reference is not None:
        params["reference"] = payment_reference
    return _event_insert(dialect, payment_reference is not None), params


@functools.cache
def _event_insert(dialect: str, by_reference: bool) -> Insert:
    payment_id = (
        select(Payment.id)
        .where(Payment.provider == bindparam("provider"), Payment.external_reference == bindparam("reference"))
        .limit(1)
        .scalar_subquery()
        if by_reference
        else null()
    )
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    columns = ProviderEvent.__table__.c
    return (
        insert(ProviderEvent)
        .values(
            provider=bindparam("provider"),
            event_id=bindparam("event_id"),
            type=bindparam("type"),
            payload=bindparam("payload", type_=columns.payload.type),
            status=bindparam("status"),
            payment_id=payment_id,
            received_at=bindparam("received_at", type_=columns.received_at.type),
        )
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(ProviderEvent.id, ProviderEvent.payment_id)
    )


def record_event(
    provider: str, event_id: str, type_: str, payload: dict, *, payment_reference: str | None = None
) -> bool:
    """Record a verified event; True (and its job queued after the commit) when it is new. With
    ``payment_reference``, a callback about no payment of ours raises ``UnknownPayment``."""
    from webapp.billing.payment_jobs import handle_provider_event

    row = db.session.execute(
        *event_insert(provider, event_id, type_, payload, payment_reference=payment_reference)
    ).first()
    if row is None:
        return False  # a repeated delivery: recorded and handled already (or being handled)
    if payment_reference is not None and row.payment_id is None:
        raise UnknownPayment("unknown reference")  # the caller's transaction rolls the row back
    handle_provider_event.delay(row.id)
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
        event = get_existing(ProviderEvent, event_id)
        event.status, event.error = EVENT_FAILED, f"{type(error).__name__}: {error}"[:1000]
    else:
        event = get_existing(ProviderEvent, event_id)  # a handler may have committed part-way
        event.status = EVENT_PROCESSED if acted else EVENT_IGNORED
    event.processed_at = utcnow()
    return event.status
