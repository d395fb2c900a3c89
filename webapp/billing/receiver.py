"""Paynow's result-URL callback answered on the event loop, not on a page thread.

A burst of callbacks (Paynow retries, a provider catching up after an outage) must not queue behind
the web process's few page threads, nor cost each a Flask request. ``webapp.asgi`` hands
``POST /webhooks/paynow`` to ``CallbackReceiver``: it reads the form, checks Paynow's hash
(``verified_callback``, the same function the Flask route uses), and records the event and its job
in one transaction on an asyncio connection pool — the same two statements as the Flask route
(``event_insert`` and the outbox row of ``handle_provider_event``) — with a NOTIFY that wakes the
worker's outbox relay, which hands the jobs to RQ in batches. The answer goes out at once and the
web process spends nothing on RQ; a job then polls Paynow and applies the payment exactly once.

The receiver works with RQ on PostgreSQL (the README's run shape). Anywhere else (SQLite, in-process
jobs, ``flask run``) the Flask route answers, with the same rules and answers: 200 ``ok`` (a repeat
too), 400 ``bad hash``, 404 ``unknown reference`` (nothing kept), 413 for a body no callback has,
503 while the database is away (Paynow calls again).
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from webapp.billing.providers.paynow import CallbackRefused, verified_callback
from webapp.billing.services.provider_events import UnknownPayment, event_insert
from webapp.jobs import outbox, runner

log = logging.getLogger(__name__)
PATH = "/webhooks/paynow"
MAX_BODY = 64 * 1024  # a result-URL callback is a few hundred bytes
POOL_SIZE = 8


class CallbackReceiver:
    def __init__(self, app: Flask):
        self.app = app
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        with app.app_context():
            self.enabled = runner.backend() == "rq" and url.startswith("postgresql+psycopg")
        self.key = app.config["PAYNOW_INTEGRATION_KEY"]
        with app.app_context():
            self.channel = outbox.channel()
        self.notify = select(func.pg_notify(self.channel, ""))
        self.engine: AsyncEngine | None = None

    def handles(self, scope) -> bool:
        return self.enabled and scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST"

    async def start(self) -> None:
        if self.enabled and self.engine is None:
            url = self.app.config["SQLALCHEMY_DATABASE_URI"]
            # No pre-ping (a round trip per callback): a connection that died with a database restart
            # fails its callback with a 503 (Paynow calls again) and the pool drops it.
            self.engine = create_async_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE)

    async def stop(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    async def handle(self, scope, receive, send) -> None:
        await self.start()  # servers without lifespan events start it on the first callback
        status, text = await self._answer(scope, receive)
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
        ]
        if status == 503:
            headers.append((b"retry-after", b"5"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": text.encode()})

    async def _answer(self, scope, receive) -> tuple[int, str]:
        body = await _read(receive, MAX_BODY)
        if body is None:
            return 413, "A callback is never this large."
        fields = _form(scope, body)
        if fields is None:
            return 400, "The callback is not a form this server can read (NUL byte or broken characters)."
        try:
            callback = verified_callback(fields, self.key)
        except CallbackRefused as refused:
            return refused.status, refused.message
        assert self.engine is not None
        try:
            async with self.engine.begin() as connection:
                statement, params = event_insert(
                    "paynow",
                    callback.event_id,
                    callback.type,
                    callback.payload,
                    payment_reference=callback.reference,
                    dialect="postgresql",
                )
                row = (await connection.execute(statement, params)).first()
                if row is None:
                    return 200, "ok"  # the same callback again: recorded and handled already
                if row.payment_id is None:
                    raise UnknownPayment("unknown reference")  # rolls the row back
                from webapp.billing.payment_jobs import handle_provider_event

                await connection.execute(*runner.outbox_insert(handle_provider_event, (row.id,)))
                await connection.execute(self.notify)  # wakes the worker's relay
        except UnknownPayment as unknown:
            return unknown.status, unknown.message
        except (DBAPIError, OSError):
            log.warning("Paynow callback: the database is unavailable; asking Paynow to call again", exc_info=True)
            return 503, "The service is unavailable for a moment; please try again."
        return 200, "ok"


async def _read(receive, limit: int) -> bytes | None:
    """The request body, or None once it passes ``limit`` bytes (counted as read, chunked or not)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _form(scope, body: bytes) -> list[tuple[str, str]] | None:
    """The form fields in order (Paynow hashes them in order); [] for another content type; None
    when a field holds what PostgreSQL cannot store (NUL) or the bytes are not UTF-8."""
    content_type = dict(scope.get("headers") or ()).get(b"content-type", b"").split(b";")[0].strip().lower()
    if content_type != b"application/x-www-form-urlencoded":
        return []
    try:
        fields = parse_qsl(body.decode("ascii"), keep_blank_values=True, max_num_fields=100, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None
    if any("\x00" in key or "\x00" in value for key, value in fields):
        return None
    return fields
