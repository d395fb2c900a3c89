"""The job outbox: nothing is lost while Redis is away.

With the RQ backend ``enqueue()`` writes a ``job_outbox`` row in the transaction of the change that
asks for the job, so the job exists exactly when the change does. Right after the commit the fast
path hands those rows to RQ and stamps ``dispatched_at`` (the latency of the old post-commit
enqueue). A row that Redis refused stays waiting; the relay moves it once Redis is back:

* ``flask worker`` relays on start-up and then every few seconds from a thread of its own, on its
  own database connections (it needs no Redis to keep trying);
* ``relay_outbox`` runs every minute under ``flask cron`` as a backstop.

Rows are taken with ``FOR UPDATE SKIP LOCKED``, so the fast path and any number of relays never move
the same row at once, and the RQ job id is the row's (``tessera-<instance>-outbox-<id>``) with RQ's
``unique``: a row whose dispatch reached Redis but whose stamp was lost is recognised and stamped,
never enqueued twice. ``prune_outbox`` deletes dispatched rows after a week. ``/readyz`` says
"degraded: N jobs waiting for Redis" while rows wait longer than ``JOBS_OUTBOX_STALE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from datetime import timedelta
from typing import cast

from redis.exceptions import RedisError
from rq import Retry
from rq.exceptions import DuplicateJobError
from rq.utils import import_attribute
from sqlalchemy import Engine, delete, func, select, update

from webapp.core.models import rowcount, utcnow
from webapp.jobs import namespace
from webapp.jobs.models import JobOutbox
from webapp.jobs.runner import JobFunction, backend, get_queue, job, periodic

log = logging.getLogger(__name__)
TABLE = JobOutbox.__table__
RELAY_EVERY = 5.0  # seconds between two passes of the worker's relay thread
KEEP_DISPATCHED = timedelta(days=7)
_redis_down_until: dict[str, float] = {}  # per Redis URL: the fast path waits this long after a refusal
PAUSE_AFTER_REFUSAL = 5.0


def rq_job_id(row) -> str:
    return row.job_id or namespace.job_id("outbox", row.id)


def _send(row) -> None:
    """Hand one row to RQ; a job already there under its id counts as sent."""
    run = cast(JobFunction, import_attribute(row.func))  # the outbox stores only @job functions
    options = {"job_id": rq_job_id(row), "description": row.func, "job_timeout": run.timeout, "unique": True}
    if getattr(row, "at_front", False):
        options["at_front"] = True
    if run.retries:
        options["retry"] = Retry(max=run.retries, interval=list(run.backoff))
    queue = get_queue(row.queue)
    try:
        if row.at is not None:
            queue.enqueue_at(row.at, run, args=tuple(row.args), kwargs=dict(row.kwargs), **options)
        else:
            queue.enqueue(run, args=tuple(row.args), kwargs=dict(row.kwargs), **options)
    except DuplicateJobError:
        log.info("outbox row %s was already on RQ; marking it dispatched", row.id)


def relay(
    ids: list[int] | None = None, *, older_than: float = 0.0, limit: int = 500, engine: Engine | None = None
) -> int:
    """Move waiting rows (``ids`` only, if given) to RQ; returns how many moved. Stops at the first
    Redis refusal: the rest wait for the next pass."""
    from webapp.extensions import db

    if backend() != "rq":
        return 0
    query = select(TABLE).where(TABLE.c.dispatched_at.is_(None)).order_by(TABLE.c.id).limit(limit)
    if ids is not None:
        query = query.where(TABLE.c.id.in_(ids))
    if older_than:
        query = query.where(TABLE.c.created_at <= utcnow() - timedelta(seconds=older_than))
    moved: list[int] = []
    with (engine or db.engine).begin() as connection:
        for row in connection.execute(query.with_for_update(skip_locked=True)).all():
            try:
                _send(row)
            except RedisError as error:
                log.warning("Redis refused job %s (%s); it waits in the outbox", row.id, type(error).__name__)
                break
            except Exception:  # a job that cannot be built (a removed function): logged, the others go on
                log.exception("outbox row %s (%s) could not be sent", row.id, row.func)
                continue
            moved.append(row.id)
        if moved:  # one stamp for the pass (a lost stamp is harmless: the RQ job id is the row's)
            connection.execute(update(TABLE).where(TABLE.c.id.in_(moved)).values(dispatched_at=utcnow()))
    return len(moved)


def fast_path(ids: list[int]) -> None:
    """Right after the commit: send this transaction's rows at once (unless Redis just refused)."""
    from flask import current_app

    url = current_app.config["REDIS_URL"]
    if time.monotonic() < _redis_down_until.get(url, 0.0):
        return  # Redis refused a moment ago: do not make every request wait for it; the relay moves them
    try:
        if relay(ids) < len(ids) and waiting(ids):
            _redis_down_until[url] = time.monotonic() + PAUSE_AFTER_REFUSAL
    except Exception:  # the change is committed; its jobs wait in the outbox for the relay
        log.exception("could not hand the outbox to RQ after the commit")


def waiting(ids: list[int] | None = None, older_than: float = 0.0) -> int:
    """How many rows wait for RQ (older than ``older_than`` seconds)."""
    from webapp.extensions import db

    query = select(func.count()).select_from(TABLE).where(TABLE.c.dispatched_at.is_(None))
    if ids is not None:
        query = query.where(TABLE.c.id.in_(ids))
    if older_than:
        query = query.where(TABLE.c.created_at <= utcnow() - timedelta(seconds=older_than))
    with db.engine.connect() as connection:
        return connection.execute(query).scalar_one()


def own_engine(app) -> Engine:
    """Connections of the worker's own (NullPool): none is left in a pool that the jobs RQ forks inherit."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)


def relay_once(app) -> int:
    """One pass on the worker's own connections (``flask worker --burst`` before it works)."""
    engine = own_engine(app)
    try:
        return relay(engine=engine)
    finally:
        engine.dispose()


def channel(app=None) -> str:
    """The PostgreSQL NOTIFY channel on which writers that leave the hand-over to the worker (the
    event loop's callback receiver, webapp.billing.receiver) wake its relay: one per instance, an
    identifier of at most 63 characters."""
    return "tessera_outbox_" + hashlib.sha256(namespace.key(app=app).encode()).hexdigest()[:16]


def relay_forever(app, stop: threading.Event, every: float = RELAY_EVERY) -> None:
    """The worker's relay thread: a pass at once, then one whenever a writer NOTIFYs ``channel()``
    (PostgreSQL) and at least every ``every`` seconds, until ``stop``, on its own database
    connections (``own_engine``)."""
    engine = own_engine(app)
    listener = None
    with app.app_context():
        name = channel()
        older_than = 0.0
        while not stop.is_set():
            try:
                moved = relay(older_than=older_than, engine=engine)
                if moved:
                    log.info("outbox: moved %d job(s) to RQ", moved)
            except Exception:  # the database is away: try again next pass
                log.warning("outbox relay could not reach the database", exc_info=True)
            if listener is None or listener.closed:
                listener = _listen(engine, name)
            if listener is None:
                stop.wait(every)
                woken = False
            else:
                woken = _woken(listener, every)
            # After a wake-up the newest rows are a writer's that left them to us; otherwise leave
            # the newest to the fast path of the request that wrote them.
            older_than = 0.0 if woken else 2.0
    if listener is not None:
        listener.close()
    engine.dispose()


def _listen(engine: Engine, name: str):
    """A psycopg connection LISTENing on ``name`` (None on SQLite, or while the database is away)."""
    if engine.dialect.name != "postgresql":
        return None
    import psycopg

    try:
        url = engine.url.set(drivername="postgresql")
        connection = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
        connection.execute(f'LISTEN "{name}"')
        return connection
    except psycopg.Error:
        log.warning("outbox relay cannot LISTEN (the database is away); polling every few seconds")
        return None


def _woken(listener, every: float) -> bool:
    """Wait up to ``every`` seconds for a NOTIFY; True when one (or more) came."""
    import psycopg

    try:
        return any(True for _ in listener.notifies(timeout=every, stop_after=1))
    except psycopg.Error:
        listener.close()
        return False


def start_relay_thread(app, every: float = RELAY_EVERY) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=relay_forever, args=(app, stop, every), name="outbox-relay", daemon=True).start()
    return stop


@periodic("* * * * *")
@job(queue="maintenance", retries=0)
def relay_outbox() -> int:
    """Every minute: move rows the fast path could not (Redis was away), older than 10 s."""
    return relay(older_than=10.0)


@periodic("17 3 * * *")
@job(queue="maintenance", retries=0)
def prune_outbox() -> int:
    """Daily: dispatched rows older than a week go (RQ keeps its own record of the job)."""
    from webapp.extensions import db

    cutoff = utcnow() - KEEP_DISPATCHED
    result = db.session.execute(delete(JobOutbox).where(JobOutbox.dispatched_at < cutoff))
    return rowcount(result)
