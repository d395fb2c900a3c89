"""Outbound webhooks: endpoints (secret shown once, rotatable), events, signed deliveries with retries.

Signature (as Stripe's): ``Tessera-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>``;
for 24 hours after a rotation a second ``v1=`` entry is signed with the previous secret.

Delivery: a job per endpoint takes the endpoint's PostgreSQL advisory lock (one request in flight per
endpoint) and drains its due deliveries in order, a bounded batch (``BATCH`` deliveries or
``BATCH_SECONDS``) under that one lock: each is sent through ``webapp.core.outbound.fetch`` (the TLS
context and the connection to the endpoint reused within the batch), its attempt recorded and
committed before the next is sent; a batch that stops with more due queues the next job.
A failure is retried with exponential backoff until the delivery's retry window (3 days) ends; an
endpoint that has failed for that long is disabled and its owners and admins are e-mailed. An
endpoint that asks for ordering gets its deliveries strictly in creation order (a failing one holds
back the later ones until it succeeds or gives up).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import joinedload

from webapp.audit import record
from webapp.core import outbound
from webapp.core.bulk import assign_ids
from webapp.core.errors import Conflict, DomainError
from webapp.core.models import get_existing, rowcount, utcnow
from webapp.core.terms import N_
from webapp.developers.catalog import API_VERSION, CATALOG, TEST_TYPE
from webapp.developers.models import (
    FAILED,
    PENDING,
    SUCCEEDED,
    Event,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from webapp.extensions import db
from webapp.secrets.fields import clear_field, decrypt_required, encrypt_field, has_field
from webapp.settings import define, get

log = logging.getLogger(__name__)

define(
    "webhooks.events_retention_days",
    int,
    30,
    "Days events (and their webhook deliveries) are kept",
    minimum=1,
    maximum=3650,
)
define(
    "webhooks.retry_window_hours",
    int,
    72,
    "Hours a webhook delivery is retried before it is given up",
    minimum=1,
    maximum=720,
)
define(
    "webhooks.first_retry_seconds",
    int,
    30,
    "Wait before the first webhook retry; each next wait doubles",
    minimum=1,
    maximum=86400,
)
define("webhooks.timeout_seconds", int, 10, "Seconds a webhook endpoint has to answer", minimum=1, maximum=60)
define("webhooks.max_endpoints", int, 20, "Webhook endpoints per organization", minimum=1, maximum=1000)

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "Tessera-Signature"
ROTATION_OVERLAP = timedelta(hours=24)
MAX_RETRY_WAIT = timedelta(hours=12)
EXCERPT_CHARS = 2000
MAX_RESPONSE_BYTES = 16 * 1024
LOCK_CLASS = 0x7E55  # advisory-lock namespace of webhook endpoints
MAX_URL = 2000


# ---------------------------------------------------------------- signing


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[str]:
    """The current secret, then the previous one while its 24 hours last."""
    now = now or utcnow()
    found = [decrypt_required(endpoint, "secret")]
    if (
        has_field(endpoint, "previous_secret")
        and endpoint.previous_secret_expires_at is not None
        and endpoint.previous_secret_expires_at > now
    ):
        found.append(decrypt_required(endpoint, "previous_secret"))
    return found


def signature_header(endpoint: WebhookEndpoint, timestamp: int, body: bytes) -> str:
    parts = [f"t={timestamp}"] + [f"v1={sign(s, timestamp, body)}" for s in signing_secrets(endpoint)]
    return ",".join(parts)


def event_payload(event: Event) -> dict:
    return {
        "id": event.public_id,
        "object": "event",
        "type": event.type,
        "api_version": event.api_version,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": {"object": event.data},
    }


def event_body(event: Event) -> bytes:
    return json.dumps(event_payload(event), separators=(",", ":"), sort_keys=True).encode()


# ---------------------------------------------------------------- endpoints


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise DomainError(N_("Enter the URL Tessera should send events to."), field="url")
    if len(url) > MAX_URL:
        raise DomainError(f"The URL is longer than {MAX_URL} characters.", field="url")
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise DomainError(N_("Enter a full http:// or https:// URL."), field="url")
    if parts.username or parts.password:
        raise DomainError(
            N_("Leave user names and passwords out of the URL; verify the signature instead."), field="url"
        )
    if any(c.isspace() for c in url):
        raise DomainError(N_("A URL has no spaces."), field="url")
    try:  # the guarded client's own vetting, so an endpoint it would never reach is refused here
        outbound.check_destination(url)
    except outbound.OutboundRefused as error:
        raise DomainError(str(error), field="url", code="url_internal") from None
    return url


def _clean_types(event_types) -> list[str]:
    chosen = [t for t in CATALOG if t in set(event_types or [])]
    if not chosen:
        raise DomainError(N_("Choose at least one event type."), field="event_types")
    return chosen


def create_endpoint(org, actor, url: str, event_types, ordered: bool = False, description: str = ""):
    """Returns (endpoint, secret). The secret is stored encrypted (it signs) and shown once."""
    url, types = _clean_url(url), _clean_types(event_types)
    count = db.session.scalar(
        select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.organization_id == org.id)
    )
    if count >= get("webhooks.max_endpoints"):
        raise DomainError(f"An organization has at most {get('webhooks.max_endpoints')} webhook endpoints.")
    secret = _new_secret()
    endpoint = WebhookEndpoint(
        organization_id=org.id,
        created_by_id=getattr(actor, "id", None),
        url=url,
        description=(description or "").strip()[:200],
        event_types=types,
        ordered=bool(ordered),
        enabled=True,
        secret_hint=secret[-4:],
    )
    db.session.add(endpoint)
    db.session.flush()
    encrypt_field(endpoint, "secret", secret)
    record(
        actor,
        "webhook_endpoint.created",
        endpoint,
        {"url": url, "event_types": types, "ordered": bool(ordered)},
        org=org,
    )
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, actor, url: str, event_types, ordered: bool, description: str = ""):
    endpoint.url, endpoint.event_types = _clean_url(url), _clean_types(event_types)
    endpoint.ordered, endpoint.description = bool(ordered), (description or "").strip()[:200]
    record(actor, "webhook_endpoint.updated", endpoint, {"url": endpoint.url, "event_types": endpoint.event_types})
    return endpoint


def rotate_secret(endpoint: WebhookEndpoint, actor, now: datetime | None = None) -> str:
    """A new secret; the one it replaces keeps signing (a second v1=) for 24 hours."""
    now = now or utcnow()
    old = decrypt_required(endpoint, "secret")  # every endpoint is made with one
    secret = _new_secret()
    encrypt_field(endpoint, "previous_secret", old)
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    encrypt_field(endpoint, "secret", secret)
    endpoint.secret_hint = secret[-4:]
    record(
        actor,
        "webhook_endpoint.secret_rotated",
        endpoint,
        {"previous_valid_until": endpoint.previous_secret_expires_at.isoformat()},
    )
    return secret


def expire_previous_secret(endpoint: WebhookEndpoint) -> None:
    clear_field(endpoint, "previous_secret")
    endpoint.previous_secret_expires_at = None


def set_enabled(endpoint: WebhookEndpoint, actor, enabled: bool) -> WebhookEndpoint:
    if endpoint.enabled == enabled:
        raise Conflict("The endpoint is already " + ("enabled." if enabled else "disabled."))
    endpoint.enabled = enabled
    endpoint.disabled_reason = None if enabled else "Disabled by a person."
    endpoint.failing_since = None
    record(actor, "webhook_endpoint.enabled" if enabled else "webhook_endpoint.disabled", endpoint)
    if enabled:
        wake(endpoint.id)
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint, actor) -> None:
    record(actor, "webhook_endpoint.deleted", endpoint, {"url": endpoint.url})
    db.session.delete(endpoint)


# ---------------------------------------------------------------- events


def _public_id() -> str:
    return "evt_" + secrets.token_hex(12)


def record_events(found: list[tuple[int, str, dict]]) -> list[Event]:
    """``record_event`` for many ``(org_id, type, obj)``: the events in one multi-row INSERT, one query
    for the enabled endpoints of their organizations, a pending delivery per endpoint listening."""
    if not found:
        return []
    now = utcnow()
    events = [
        Event(
            public_id=_public_id(),
            organization_id=org_id,
            type=type_,
            api_version=API_VERSION,
            created_at=now,
            data=json.loads(json.dumps(obj, default=str)),
            is_test=False,
        )
        for org_id, type_, obj in found
    ]
    db.session.add_all(events)
    assign_ids(events)
    db.session.flush()
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in db.session.scalars(
        select(WebhookEndpoint)
        .where(
            WebhookEndpoint.organization_id.in_({e.organization_id for e in events}),
            WebhookEndpoint.enabled.is_(True),
        )
        .order_by(WebhookEndpoint.id)
    ):
        endpoints.setdefault(endpoint.organization_id, []).append(endpoint)
    woken: dict[int, None] = {}
    for event in events:
        for endpoint in endpoints.get(event.organization_id, ()):
            if event.type not in (endpoint.event_types or []):
                continue
            db.session.add(_pending_delivery(event, endpoint))
            woken[endpoint.id] = None
    if woken:
        db.session.flush()
        for endpoint_id in woken:
            wake(endpoint_id)
    return events


def _pending_delivery(event: Event, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """The first delivery of ``event`` to ``endpoint``: due at once, its retry window open from now."""
    now = event.created_at
    return WebhookDelivery(
        organization_id=event.organization_id,
        endpoint_id=endpoint.id,
        event_id=event.id,
        status=PENDING,
        next_attempt_at=now,
        window_started_at=now,
        created_at=now,
    )


def record_event(org_id: int, type_: str, obj: dict, *, is_test: bool = False, only_endpoint=None) -> Event:
    """Store the event and create one pending delivery per enabled endpoint that listens for it."""
    event = Event(
        public_id=_public_id(),
        organization_id=org_id,
        type=type_,
        api_version=API_VERSION,
        created_at=utcnow(),
        data=json.loads(json.dumps(obj, default=str)),
        is_test=is_test,
    )
    db.session.add(event)
    db.session.flush()
    if only_endpoint is not None:
        endpoints = [only_endpoint]
    else:
        endpoints = [
            e
            for e in db.session.scalars(
                select(WebhookEndpoint).where(
                    WebhookEndpoint.organization_id == org_id, WebhookEndpoint.enabled.is_(True)
                )
            )
            if type_ in (e.event_types or [])
        ]
    for endpoint in endpoints:
        db.session.add(_pending_delivery(event, endpoint))
    if endpoints:
        db.session.flush()
        for endpoint in endpoints:
            wake(endpoint.id)
    return event


def send_test_event(endpoint: WebhookEndpoint, actor) -> Event:
    if not endpoint.enabled:
        raise Conflict(N_("Enable the endpoint before sending it a test event."))
    obj = {"object": "test", "message": "A test event from Tessera.", "endpoint_id": endpoint.id}
    event = record_event(endpoint.organization_id, TEST_TYPE, obj, is_test=True, only_endpoint=endpoint)
    record(actor, "webhook_endpoint.test_sent", endpoint, {"event": event.public_id})
    return event


def resend(delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Send this delivery once more (a fresh retry window), whatever became of it."""
    if not delivery.endpoint.enabled:
        raise Conflict(N_("Enable the endpoint before resending to it."))
    if delivery.status == PENDING:
        raise Conflict(N_("This delivery is already waiting to be sent."))
    now = utcnow()
    delivery.status, delivery.next_attempt_at, delivery.window_started_at = PENDING, now, now
    record(
        actor,
        "webhook_delivery.resent",
        delivery.endpoint,
        {"event": delivery.event.public_id, "delivery_id": delivery.id},
    )
    wake(delivery.endpoint_id)
    return delivery


def prune_events(now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(days=get("webhooks.events_retention_days"))
    result = db.session.execute(delete(Event).where(Event.created_at < cutoff))
    return rowcount(result)


# ---------------------------------------------------------------- delivery


def wake(endpoint_id: int, at: datetime | None = None) -> None:
    """Queue the endpoint's delivery job (after the commit); ``at`` for a retry that is not due yet."""
    from webapp.developers.jobs import deliver_endpoint
    from webapp.jobs import enqueue
    from webapp.jobs.runner import backend

    if at is not None:
        if backend() != "rq":
            return  # in-process jobs have no clock: the minute sweep (wake_due) sends it when due
        enqueue(deliver_endpoint, endpoint_id, at=at, job_id=f"webhooks-{endpoint_id}-{int(at.timestamp())}")
        return
    from webapp.jobs.runner import PENDING_KEY

    queued = db.session().info.get(PENDING_KEY, [])  # this transaction's jobs, dispatched at its commit
    if any(p.func is deliver_endpoint and p.args == (endpoint_id,) and p.at is None for p in queued):
        return  # one job per endpoint per transaction, however many events it records
    if backend() == "rq" and not _mark_queued(endpoint_id):
        return  # a job for this endpoint is queued and has not started: it will see these deliveries too
    enqueue(deliver_endpoint, endpoint_id)


QUEUED_TTL = 60  # a marker left by a rolled-back transaction stops skipping after this (wake_due runs each minute)


def _queued_key(endpoint_id: int) -> str:
    from webapp.jobs.namespace import key

    return key("webhooks", "queued", endpoint_id)


def _mark_queued(endpoint_id: int) -> bool:
    from redis.exceptions import RedisError

    from webapp.jobs.runner import redis_connection

    try:
        return bool(redis_connection().set(_queued_key(endpoint_id), "1", nx=True, ex=QUEUED_TTL))
    except RedisError:  # queue one more job rather than none (the job takes a lease)
        log.warning("webhooks: Redis did not answer for endpoint %s; queueing its job", endpoint_id, exc_info=True)
        return True


def job_started(endpoint_id: int) -> None:
    """The endpoint's job runs now: later events need a job of their own."""
    from redis.exceptions import RedisError

    from webapp.jobs.runner import backend, redis_connection

    if backend() != "rq":
        return
    try:
        redis_connection().delete(_queued_key(endpoint_id))
    except RedisError:  # the mark expires on its own (QUEUED_TTL)
        log.warning("webhooks: Redis did not answer clearing endpoint %s's mark", endpoint_id, exc_info=True)


def wake_due(now: datetime | None = None) -> int:
    """Queue the job of every enabled endpoint with a delivery due (the safety net behind ``wake``)."""
    from webapp.orgs.suspension import suspended_ids

    now = now or utcnow()
    ids = db.session.scalars(
        select(WebhookDelivery.endpoint_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_attempt_at <= now,
            WebhookEndpoint.enabled.is_(True),
            WebhookEndpoint.organization_id.not_in(suspended_ids()),  # waits; woken again after reactivation
        )
        .distinct()
    ).all()
    for endpoint_id in ids:
        wake(endpoint_id)
    return len(ids)


def retry_wait(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failed attempt: first_retry_seconds, doubling, at most 12 hours."""
    seconds = get("webhooks.first_retry_seconds") * 2 ** min(max(attempts - 1, 0), 30)
    return min(timedelta(seconds=seconds), MAX_RETRY_WAIT)


def _lock_key(endpoint_id: int) -> tuple[int, int]:
    return LOCK_CLASS, endpoint_id % 2**31


def _lock(endpoint_id: int) -> bool:
    """The endpoint's lock for this transaction only (one delivery sent outside a batch)."""
    if db.engine.dialect.name != "postgresql":
        return True  # SQLite has one writer anyway
    return bool(db.session.scalar(select(func.pg_try_advisory_xact_lock(*_lock_key(endpoint_id)))))


@contextlib.contextmanager
def _batch_lock(endpoint_id: int):
    """The endpoint's lock for a whole batch: a session-level advisory lock on a connection of its own,
    so the batch's commits (one per attempt) do not release it. Released at the end; if the process
    dies, PostgreSQL releases it with the connection. Yields whether it was taken."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    connection = db.engine.connect()
    taken = False
    try:
        taken = bool(connection.scalar(select(func.pg_try_advisory_lock(*_lock_key(endpoint_id)))))
        connection.commit()  # hold the lock, not an idle transaction
        yield taken
    finally:
        try:
            if taken:
                connection.scalar(select(func.pg_advisory_unlock(*_lock_key(endpoint_id))))
                connection.commit()
        except Exception:
            connection.invalidate()  # never hand a connection that may still hold the lock back to the pool
            raise
        finally:
            connection.close()


BATCH = 100  # deliveries one job sends before handing over to a fresh job (other endpoints get workers too)
BATCH_SECONDS = 20.0  # and the time it may take: a request starts only if its timeout fits in what is left


def drain(endpoint_id: int) -> str:
    """Send the endpoint's due deliveries in order, a bounded batch under one lock, each attempt
    committed as it ends. Returns the last outcome: "sent" (the batch was full: the next job is
    queued), "busy", "idle", "waiting" or "paused". Idempotent: what succeeded is never sent again."""
    from webapp.core.transaction import commit_progress

    job_started(endpoint_id)
    started = time.monotonic()
    outcome, sent = "idle", 0
    with _batch_lock(endpoint_id) as taken:
        if not taken:
            return "busy"
        with outbound.reuse_connections():
            while sent < BATCH and outcome in ("idle", "sent"):
                endpoint, outcome = _usable(endpoint_id)
                if endpoint is None:
                    break
                chunk, due_at = _due(endpoint, utcnow(), min(CHUNK, BATCH - sent))
                if not chunk:
                    outcome = _wait_for(endpoint, due_at)
                    break
                out_of_time = False
                for due in chunk:
                    timeout = float(get("webhooks.timeout_seconds"))
                    if sent and time.monotonic() - started + timeout > BATCH_SECONDS:
                        out_of_time = True  # a slow endpoint does not hold the worker past the batch's time
                        break
                    ok = _attempt(endpoint, due)
                    commit_progress("each webhook attempt is recorded (exactly once) before the next is sent")
                    sent, outcome = sent + 1, "sent"
                    if not ok and endpoint.ordered:
                        break  # a failed head holds back the later ones: the next read sees it waiting
                if out_of_time:
                    break
    if outcome == "sent" or (outcome in ("idle", "waiting") and _due_now(endpoint_id)):
        # More is due: the batch was full, or a job woken while this one held the lock left at once.
        wake(endpoint_id)
        commit_progress("the endpoint's next job is queued")
    return outcome


CHUNK = 20  # due deliveries read in one query; the endpoint is re-read before each is sent


@dataclass(frozen=True)
class _Due:
    """What sending one delivery needs, read before the attempts' commits expire the ORM objects."""

    id: int
    attempts: int
    window_started_at: datetime
    is_test: bool
    event_public_id: str
    body: bytes


def _usable(endpoint_id: int) -> tuple[WebhookEndpoint | None, str]:
    """The endpoint, fresh, when deliveries may go out now; else None and why ("idle", "paused")."""
    from webapp.orgs.suspension import skip_if_suspended

    endpoint = db.session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    if endpoint is None or not endpoint.enabled:
        return None, "idle"
    if skip_if_suspended(endpoint.organization_id, f"webhook endpoint {endpoint_id}"):
        return None, "paused"  # deliveries stay PENDING, attempts unspent
    if endpoint.previous_secret_expires_at is not None and endpoint.previous_secret_expires_at <= utcnow():
        expire_previous_secret(endpoint)
    return endpoint, "idle"


def _due(endpoint: WebhookEndpoint, now: datetime, limit: int) -> tuple[list[_Due], datetime | None]:
    """Up to ``limit`` deliveries to send now, oldest first — for an ordered endpoint only the run of
    due ones from the head of its queue — else none and when the next one is due."""
    pending = (
        select(WebhookDelivery)
        .options(joinedload(WebhookDelivery.event))
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == PENDING)
        .order_by(WebhookDelivery.id)
    )
    if endpoint.ordered:
        queue = db.session.scalars(pending.limit(limit)).all()
        due = list(itertools.takewhile(lambda d: d.next_attempt_at is not None and d.next_attempt_at <= now, queue))
        next_at = queue[0].next_attempt_at if queue and not due else None
    else:
        due = list(db.session.scalars(pending.where(WebhookDelivery.next_attempt_at <= now).limit(limit)))
        next_at = None
        if not due:
            next_at = db.session.scalar(
                select(func.min(WebhookDelivery.next_attempt_at)).where(
                    WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == PENDING
                )
            )
    chunk = [
        _Due(d.id, d.attempts, d.window_started_at, d.event.is_test, d.event.public_id, event_body(d.event))
        for d in due
    ]
    return chunk, next_at


def _wait_for(endpoint: WebhookEndpoint, due_at: datetime | None) -> str:
    if due_at is None:
        return "idle"
    wake(endpoint.id, at=due_at)
    return "waiting"


def _due_now(endpoint_id: int) -> bool:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id, populate_existing=True)
    if endpoint is None or not endpoint.enabled:
        return False
    return bool(_due(endpoint, utcnow(), 1)[0])


def deliver_next(endpoint_id: int, *, locked: bool = False) -> str:
    """Send one due delivery of the endpoint: "sent", "busy" (another worker holds it), "idle",
    "waiting" or "paused". ``locked``: the caller holds the endpoint's lock."""
    if not locked and not _lock(endpoint_id):
        return "busy"
    endpoint, why = _usable(endpoint_id)
    if endpoint is None:
        return why
    chunk, due_at = _due(endpoint, utcnow(), 1)
    if not chunk:
        return _wait_for(endpoint, due_at)
    _attempt(endpoint, chunk[0])
    return "sent"


def _attempt(endpoint: WebhookEndpoint, due: _Due) -> bool:
    """Send one delivery, record the attempt and its outcome (in the caller's transaction); True when
    the endpoint took it. A failure is retried with backoff until the delivery's window ends."""
    from webapp.core.outbound import OutboundFailed, OutboundRefused, fetch

    timestamp = int(time.time())
    header = signature_header(endpoint, timestamp, due.body)
    status, excerpt, error, duration = None, "", None, 0
    started = time.monotonic()
    try:
        response = fetch(
            "POST",
            endpoint.url,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Tessera-Webhooks/1.0",
                SIGNATURE_HEADER: header,
                "Tessera-Event-Id": due.event_public_id,
            },
            content=due.body,
            timeout=float(get("webhooks.timeout_seconds")),
            max_response_bytes=MAX_RESPONSE_BYTES,
        )
        status, excerpt, duration = response.status_code, response.text[:EXCERPT_CHARS], response.duration_ms
    except OutboundRefused as refused:
        error = str(refused)[:300]
    except OutboundFailed as failed:
        error = str(failed)[:300]
    duration = duration or int((time.monotonic() - started) * 1000)
    ok = status is not None and 200 <= status < 300
    now = utcnow()
    attempts = due.attempts + 1
    db.session.execute(
        insert(WebhookAttempt).values(
            organization_id=endpoint.organization_id,
            delivery_id=due.id,
            number=attempts,
            request_body=due.body.decode(),
            signature=header[:400],
            response_status=status,
            response_excerpt=excerpt,
            error=error,
            succeeded=ok,
            duration_ms=duration,
            created_at=now,
        )
    )
    outcome: dict = {"attempts": attempts, "last_attempt_at": now}
    window = timedelta(hours=get("webhooks.retry_window_hours"))
    window_end = due.window_started_at + window
    if ok:
        outcome.update(status=SUCCEEDED, delivered_at=now, next_attempt_at=None)
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
    elif due.is_test or now >= window_end:  # a test event is sent once
        outcome.update(status=FAILED, next_attempt_at=None)
    else:  # the last retry falls at the window's end
        outcome.update(next_attempt_at=min(now + retry_wait(attempts), window_end))
    db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == due.id).values(**outcome))
    if not ok and not due.is_test:
        if endpoint.failing_since is None:
            endpoint.failing_since = min(now, due.window_started_at)  # failing since this undelivered event
        if now - endpoint.failing_since >= window:
            disable_failing(endpoint, now)
    return ok


def disable_failing(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Failing for the whole retry window: disabled, its pending deliveries given up, its admins e-mailed."""
    from webapp.core.access import roles_with
    from webapp.mail.services import send_email
    from webapp.orgs.models import Membership, Organization

    hours = get("webhooks.retry_window_hours")
    endpoint.enabled = False
    endpoint.disabled_reason = f"Every delivery failed for {hours} hours."
    db.session.execute(
        WebhookDelivery.__table__.update()
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == PENDING)
        .values(status=FAILED, next_attempt_at=None)
    )
    record(
        None, "webhook_endpoint.disabled", endpoint, {"reason": endpoint.disabled_reason}, org=endpoint.organization_id
    )
    org = get_existing(Organization, endpoint.organization_id)
    memberships = db.session.scalars(
        select(Membership).where(Membership.organization_id == org.id, Membership.role.in_(roles_with("api")))
    ).all()
    link = current_app.config["BASE_URL"] + f"/o/{org.slug}/developers/webhooks/{endpoint.id}"
    for membership in memberships:
        send_email(
            membership.user.email,
            "developers/endpoint_disabled",
            about=endpoint,
            subject=lazy_gettext("Webhook endpoint disabled for %(org)s", org=org.name),
            org=org,
            user=membership.user,
            org_name=org.name,
            url=endpoint.url,
            hours=hours,
            since=endpoint.failing_since,
            link=link,
        )
