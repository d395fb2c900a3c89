"""Leases on the rows that jobs drive, so a run survives the death of its worker.

A run row (workflow run, sync job, publish target, billing run, file scan) is taken by one worker
with ``claim()``: one conditional UPDATE that writes ``lease_owner`` (host, pid and a random part)
and ``lease_expires_at`` (now + ``jobs.lease_seconds``), and only succeeds when nobody holds the row
or the holder's lease has run out. While the job runs, ``held()`` keeps a heartbeat thread renewing
the lease every quarter of its length; when the job ends, the lease is released in the job's own
transaction.

Why a thread and not a call between steps: a single step can take longer than any fixed budget (an
HTTP step up to its timeout, a billing run over thousands of accounts, a scan of a large file), and a
thread of the work-horse process dies exactly when that process dies (SIGKILL, OOM, a lost machine).
So an expired lease means "the process is gone", not "the step was slow". A job that is alive but
stuck is bounded by its own timeout: the heartbeat stops renewing after it. The job still checks
``Heartbeat.lost`` (or the row's owner) between steps, so a worker that lost its lease to the
sweeper stops instead of running on next to the run's new holder.

``sweep()`` (every minute) finds expired leases and hands each row to the handler its domain
registered with ``@on_expiry(Model)``: re-queue when the interrupted step is safe to repeat (at most
``jobs.lease_requeues`` times), else fail with a reason a person can act on. Rows that a live
transaction holds locked are skipped (``SKIP LOCKED``): a lock means someone is working on it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, or_, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import JobRunMixin, rowcount, utcnow
from webapp.core.transaction import commit_progress
from webapp.extensions import db
from webapp.jobs.runner import job, periodic
from webapp.settings import define, get

log = logging.getLogger(__name__)

define("jobs.lease_seconds", int, 60, "A run's lease: renewed while its worker lives", minimum=2, maximum=3600)
define(
    "jobs.lease_requeues",
    int,
    2,
    "Times a run whose worker died is queued again (only when its step is safe to repeat)",
    minimum=0,
    maximum=10,
)

REQUEUED, FAILED, RELEASED = "requeued", "failed", "released"


class LeaseMixin:
    """``lease_owner`` / ``lease_expires_at``: who runs the row and until when; ``lease_expiries``:
    how often a worker died holding it (the re-queue limit counts these)."""

    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(index=True)
    lease_expiries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def mark_finished(self, status: str, error: str | None = None) -> None:
        """On run rows (``JobRunMixin``): the lease goes in the same commit as the final status, so a
        finished run never shows a holder. The heartbeat then finds nothing to renew and stops."""
        if not isinstance(self, JobRunMixin):
            raise TypeError(f"{type(self).__name__} has no run status to finish (not a JobRunMixin)")
        JobRunMixin.mark_finished(self, status, error)
        self.lease_owner = None
        self.lease_expires_at = None


def lease_seconds() -> int:
    return int(get("jobs.lease_seconds"))


def new_owner() -> str:
    """Who holds a lease: enough to find the process in a log, unique per claim."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


def lease_values(owner: str, now: datetime | None = None, extra_seconds: float = 0) -> dict:
    """Columns to set in a claim's own UPDATE (workflow runs claim a concurrency slot at the same time)."""
    return {
        "lease_owner": owner,
        "lease_expires_at": (now or utcnow()) + timedelta(seconds=lease_seconds() + extra_seconds),
    }


def free(model, now: datetime | None = None):
    """Nobody holds the row, or the holder's lease ran out."""
    return or_(model.lease_owner.is_(None), model.lease_expires_at < (now or utcnow()))


def claim(model, row_id: int, *conditions) -> str | None:
    """Take the row if ``conditions`` hold and it is free; commits and returns the owner token."""
    owner, now = new_owner(), utcnow()
    taken = db.session.execute(
        update(model)
        .where(model.id == row_id, free(model, now), *conditions)
        .values(**lease_values(owner, now))
        .returning(model.id)
        .execution_options(synchronize_session=False)
    ).first()
    commit_progress("a claimed lease must be visible to other workers before the work starts")
    return owner if taken else None


def extend(model, row_id: int, owner: str, seconds: float) -> bool:
    """Keep the lease past a scheduled pause (the next step queued ``seconds`` from now)."""
    changed = rowcount(
        db.session.execute(
            update(model)
            .where(model.id == row_id, model.lease_owner == owner)
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds() + seconds))
            .execution_options(synchronize_session=False)
        )
    )
    return changed == 1


def release(model, row_id: int, owner: str) -> None:
    """Give the row up, in the caller's transaction (it commits with the job's last write)."""
    db.session.execute(
        update(model)
        .where(model.id == row_id, model.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )


def holds(model, row_id: int, owner: str) -> bool:
    return db.session.scalar(select(model.lease_owner).where(model.id == row_id)) == owner


class Heartbeat:
    """Renews one lease from a daemon thread on its own connection, until stopped, lost, or
    ``max_seconds`` (the job's timeout) have passed. A job that works through several rows one after
    another keeps one heartbeat and points it at each row in turn (``follow``): one thread a job."""

    def __init__(self, model, row_id: int, owner: str, *, max_seconds: float | None = None):
        self.table = model.__table__
        columns = sa_inspect(model).columns  # by attribute: a model may keep an older column name
        self.id_column, self.owner_column = columns["id"], columns["lease_owner"]
        self.expiry_column = columns["lease_expires_at"]
        self.row_id, self.owner = row_id, owner
        self.ttl = lease_seconds()
        self.interval = max(0.5, self.ttl / 4)
        self.max_seconds = max_seconds
        self.engine = db.engine
        self.lost = False
        self.released = False  # set by the job when its own last write gave the lease up
        self.beats = 0
        self._target = threading.Lock()  # row_id, owner and lost change together (``follow``)
        self._generation = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{self.table.name}-{row_id}", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        # Not joined for long: a beat may be waiting for a row lock this very thread's transaction holds.
        self._stop.set()
        self._thread.join(timeout=0.05)

    def follow(self, row_id: int, owner: str) -> Heartbeat:
        """Renew this lease from now on instead (the job's previous row was released)."""
        with self._target:
            self.row_id, self.owner, self.lost, self.released = row_id, owner, False, False
            self._generation += 1
        return self

    def renew(self) -> bool:
        return self._renew(self.row_id, self.owner)

    def _renew(self, row_id: int, owner: str) -> bool:
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(self.table)
                .where(self.id_column == row_id, self.owner_column == owner)
                .values({self.expiry_column: utcnow() + timedelta(seconds=self.ttl)})
            ).rowcount
        return changed == 1

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.wait(self.interval):
            if self.max_seconds is not None and time.monotonic() - started > self.max_seconds:
                log.warning("lease on %s %s not renewed past the job's timeout", self.table.name, self.row_id)
                return
            with self._target:
                row_id, owner, generation, lost = self.row_id, self.owner, self._generation, self.lost
            if lost:
                continue  # nothing to renew until the job follows another row
            try:
                renewed = self._renew(row_id, owner)
            except Exception:  # the database may be restarting: try again at the next beat
                log.warning("could not renew the lease on %s %s", self.table.name, row_id, exc_info=True)
                continue
            with self._target:
                if generation != self._generation:
                    continue  # the job moved on to another row meanwhile: that one is renewed next beat
                if renewed:
                    self.beats += 1
                else:
                    self.lost = True


@contextmanager
def held(model, row_id: int, owner: str, *, max_seconds: float | None = None, beat: Heartbeat | None = None):
    """Renew the lease while the block runs, release it at the end (unless the block set
    ``beat.released``: its own write, such as ``mark_finished``, cleared the owner). On an exception the
    job's transaction is rolled back and the release committed alone, so a retry can claim at once.

    ``beat``: the job's own heartbeat, already started for an earlier row; it follows this row and
    is not stopped at the end (the job stops it once, after its last row)."""
    own = beat is None
    beat = (
        Heartbeat(model, row_id, owner, max_seconds=max_seconds).start() if beat is None else beat.follow(row_id, owner)
    )
    try:
        yield beat
    except BaseException:
        beat.stop()
        db.session.rollback()
        release(model, row_id, owner)
        commit_progress("the release of a failed job's lease is committed alone, so a retry can claim")
        raise
    if own:
        beat.stop()
    if not beat.released:
        release(model, row_id, owner)


# ----------------------------------------------------------------------------- the sweeper

# Models with a LeaseMixin, each with its handler: (row) -> (outcome, reason).
HANDLERS: dict[type[Any], Callable[[Any], tuple[str, str]]] = {}


def on_expiry(model):
    """Register what to do with a row of ``model`` whose lease ran out: the handler gets the row
    (lease already cleared, ``lease_expiries`` counted) and returns (outcome, reason)."""

    def decorator(func):
        HANDLERS[model] = func
        return func

    return decorator


def times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def requeue_allowed(row) -> bool:
    return (row.lease_expiries or 0) <= int(get("jobs.lease_requeues"))


def sweep(now: datetime | None = None, limit: int = 200) -> dict[str, dict[str, int]]:
    """Hand every row whose lease expired to its domain's handler; one commit per row, audited."""
    from webapp.audit import record
    from webapp.jobs.cron import load_job_modules

    load_job_modules()  # each domain's jobs module registers its handler
    now = now or utcnow()
    totals: dict[str, dict[str, int]] = {}
    for model, handler in list(HANDLERS.items()):
        ids = db.session.scalars(
            select(model.id).where(model.lease_expires_at < now).order_by(model.lease_expires_at).limit(limit)
        ).all()
        for row_id in ids:
            row = db.session.scalar(
                select(model)
                .where(model.id == row_id, model.lease_expires_at < now)
                .with_for_update(skip_locked=True)
                .execution_options(populate_existing=True)
            )
            if row is None:  # renewed meanwhile, or a live transaction is writing it
                db.session.rollback()
                continue
            owner, expired_at = row.lease_owner, row.lease_expires_at
            row.lease_owner = None
            row.lease_expires_at = None
            row.lease_expiries = (row.lease_expiries or 0) + 1
            try:
                outcome, reason = handler(row)
            except Exception:
                log.exception("lease sweep of %s %s failed", model.__tablename__, row_id)
                db.session.rollback()
                continue
            if outcome != RELEASED:
                record(
                    None,
                    "job.lease_expired",
                    row,
                    {
                        "table": model.__tablename__,
                        "outcome": outcome,
                        "reason": reason,
                        "worker": owner,
                        "lease_expired_at": expired_at.isoformat() if expired_at else None,
                        "expiries": row.lease_expiries,
                    },
                )
            commit_progress("each swept row is settled on its own, so one bad row does not hold back the rest")
            counts = totals.setdefault(model.__tablename__, {})
            counts[outcome] = counts.get(outcome, 0) + 1
    return totals


@periodic("* * * * *")
@job(queue="maintenance", retries=0)
def sweep_expired_leases() -> dict:
    """Every minute: runs whose worker stopped are queued again or failed, and their slots freed."""
    return sweep()
