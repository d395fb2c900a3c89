"""The one mechanism for background work: ``@job`` functions, post-commit enqueue, periodic jobs."""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from flask import current_app, g, has_app_context, has_request_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import Insert, bindparam, event, insert
from sqlalchemy.orm import Session

from webapp.core.models import utcnow
from webapp.jobs import namespace
from webapp.jobs.models import JobOutbox

log = logging.getLogger(__name__)

QUEUES = ("default", "email", "billing", "integrations", "publishing", "maintenance")
PENDING_KEY = "tessera.pending_jobs"
OUTBOX_KEY = "tessera.outbox_ids"  # this transaction's outbox rows, sent right after it commits


@dataclass
class PendingJob:
    func: Callable
    args: tuple
    kwargs: dict
    queue: str
    at: datetime | None = None
    job_id: str | None = None
    retries: int = 3


@dataclass
class Periodic:
    func: Callable
    cron: str
    queue: str
    name: str = field(default="")


class JobFunction(Protocol):
    """A ``@job`` function: callable in-process, with its queue and retry policy and ``delay`` to
    enqueue it after the commit (attributes set on the wrapper by ``job``)."""

    __name__: str
    __module__: str
    queue: str
    retries: int
    backoff: tuple[int, ...]
    timeout: int

    delay: Callable[..., Any]

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


PERIODIC: list[Periodic] = []
_local = threading.local()
_worker_app = None


def _app():
    global _worker_app
    if _worker_app is None:
        from webapp import create_app

        _worker_app = create_app()
    return _worker_app


@contextmanager
def app_context():
    """Inside a request or test the current app is used; an RQ worker builds one app per process."""
    if has_app_context():
        yield current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types its LocalProxy as Flask
        return
    app = _app()
    with app.app_context():
        yield app


def job(queue: str = "default", retries: int = 3, backoff: tuple[int, ...] = (10, 60, 300), timeout: int = 600):
    """Declare a background job: the body runs in an app context and commits once at the end."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")

    def decorator(func: Callable[..., Any]) -> JobFunction:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            from webapp.extensions import db

            with app_context():
                in_request = has_request_context()  # an in-process job after the request owns its commit
                if in_request:
                    outer, g._tessera_job_running = g.get("_tessera_job_running", False), True
                try:
                    result = func(*args, **kwargs)
                    db.session.commit()
                except Exception:
                    db.session.rollback()
                    raise
                finally:
                    if in_request:
                        g._tessera_job_running = outer
                drain_inline()
                return result

        # A plain function, so RQ imports it by name; the attributes make it a JobFunction.
        declared = cast(JobFunction, run)
        declared.queue = queue
        declared.retries = retries
        declared.backoff = backoff
        declared.timeout = timeout
        declared.delay = lambda *a, **kw: enqueue(declared, *a, **kw)
        return declared

    return decorator


def periodic(cron: str, queue: str | None = None):
    """Register a ``@job`` to run on a cron schedule (RQ's cron scheduler, or a thread without Redis)."""

    def decorator(run):
        PERIODIC.append(Periodic(run, cron, queue or run.queue, f"{run.__module__}.{run.__name__}"))
        return run

    return decorator


def enqueue(
    run, *args, at: datetime | None = None, job_id: str | None = None, at_front: bool = False, **kwargs
) -> None:
    """Queue ``run(*args, **kwargs)`` to start once the current transaction commits.

    With RQ the job is an outbox row in this transaction (``webapp/jobs/outbox.py``): sent right
    after the commit, or by the relay once Redis is back. Arguments must be JSON values.
    ``at_front``: ahead of the jobs already waiting in its queue (RQ's ``at_front``), for the next
    step of work already under way, so work that started finishes before new work starts."""
    from webapp.extensions import db

    session = db.session()
    if backend() == "rq":
        _write_outbox(session, run, args, kwargs, at, job_id, at_front)
        return
    pending = PendingJob(run, args, kwargs, run.queue, at, job_id, run.retries)
    if not session.in_transaction():
        session.begin()  # no SQL yet: begin anyway, so a rollback still discards the job
    session.info.setdefault(PENDING_KEY, []).append(pending)


def outbox_insert(
    run,
    args: tuple = (),
    kwargs: dict | None = None,
    at: datetime | None = None,
    job_id: str | None = None,
    at_front: bool = False,
) -> tuple[Insert, dict]:
    """The ``INSERT … RETURNING id`` of one outbox row for ``run(*args, **kwargs)`` and its parameters
    (also run on the event loop by webapp.billing.receiver, whose NOTIFY wakes the worker's relay).
    The statement is built once, with bound parameters."""
    func = f"{run.__module__}.{run.__name__}"
    kwargs = dict(kwargs or {})
    try:
        json.dumps([args, kwargs])
    except (TypeError, ValueError) as error:
        raise TypeError(f"{func}: job arguments are stored as JSON; pass ids, strings, numbers, lists") from error
    params = dict(
        func=func,
        args=list(args),
        kwargs=kwargs,
        queue=run.queue,
        at=at,
        job_id=job_id,
        at_front=at_front,
        created_at=utcnow(),
    )
    return _outbox_insert(), params


@functools.cache
def _outbox_insert() -> Insert:
    columns = JobOutbox.__table__.c
    names = ("func", "args", "kwargs", "queue", "at", "job_id", "at_front", "created_at")
    return (
        insert(JobOutbox)
        .values({name: bindparam(name, type_=columns[name].type) for name in names})
        .returning(JobOutbox.id)
    )


def _write_outbox(
    session: Session, run, args: tuple, kwargs: dict, at: datetime | None, job_id: str | None, at_front: bool = False
) -> None:
    row_id = session.execute(*outbox_insert(run, args, kwargs, at, job_id, at_front)).scalar_one()
    session.info.setdefault(OUTBOX_KEY, []).append(row_id)


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the jobs wait for the transaction around it to commit
    pending = session.info.pop(PENDING_KEY, [])
    for item in pending:
        _dispatch(item)
    ids = session.info.pop(OUTBOX_KEY, [])
    if ids and has_app_context():
        from webapp.jobs.outbox import fast_path

        fast_path(ids)


@event.listens_for(Session, "after_soft_rollback")
def _discard_after_rollback(session: Session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(PENDING_KEY, None)
        session.info.pop(OUTBOX_KEY, None)


def backend() -> str:
    return current_app.extensions["tessera.jobs_backend"]


def redis_connection() -> Redis:
    """This app's Redis client, built once in ``choose_backend``: the one way code reaches Redis."""
    return current_app.extensions["tessera.redis"]


def redis_if_used() -> Redis | None:
    """The Redis client when jobs run on RQ; None with the in-process backend (Redis is then unused)."""
    return redis_connection() if backend() == "rq" else None


def async_redis_client(app):
    """An asyncio client to the same Redis, with the same connect timeout (the live streams' pub/sub)."""
    import redis.asyncio as aioredis

    return aioredis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=1)


def queue_name(name: str) -> str:
    """The RQ name of one of ``QUEUES`` in this instance's namespace (``tessera:<instance>:default``)."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return namespace.key(name)


def get_queue(name: str) -> Queue:
    return Queue(queue_name(name), connection=redis_connection())


def _dispatch(item: PendingJob) -> None:
    """The in-process backend: the job runs in this process once the request (or command) is done."""
    backlog = getattr(_local, "backlog", None)
    if backlog is None:
        backlog = _local.backlog = []
    backlog.append(item)


def drain_inline() -> None:
    """Run jobs waiting in-process; jobs they enqueue run too. Re-entrant calls return at once."""
    if getattr(_local, "draining", False):
        return
    _local.draining = True
    try:
        while getattr(_local, "backlog", None):
            item = _local.backlog.pop(0)
            try:
                item.func(*item.args, **item.kwargs)
            except Exception:
                log.exception("in-process job %s failed", item.func.__name__)
    finally:
        _local.draining = False


def choose_backend(app) -> None:
    """Pick RQ when Redis answers, else the in-process fallback; say which."""
    redis = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=5)  # the only one
    app.extensions["tessera.redis"] = redis
    wanted = app.config["JOBS_BACKEND"]
    if wanted == "auto":
        try:
            redis.ping()
            wanted = "rq"
        except RedisError:
            wanted = "inline"
    app.extensions["tessera.jobs_backend"] = wanted
