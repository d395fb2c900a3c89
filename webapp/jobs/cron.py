"""Periodic jobs: RQ's cron scheduler with Redis, an in-process loop without it.

Both read ``PERIODIC`` (filled by ``@periodic`` when each domain's ``jobs`` module is imported).
One ``flask cron`` process per deployment; it stops cleanly on SIGTERM or Ctrl-C, after the job
it is running (if any) has finished.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from uuid import uuid4

from croniter import croniter

from webapp.core.models import utcnow
from webapp.jobs import namespace
from webapp.jobs.runner import PERIODIC, Periodic, queue_name

log = logging.getLogger(__name__)
MAX_SLEEP = 30.0  # wake up at least this often, so a changed clock is noticed


def load_job_modules() -> list[Periodic]:
    """Import every domain's ``jobs`` module so its ``@periodic`` declarations are registered."""
    from webapp import DOMAINS

    importlib.import_module("webapp.jobs.outbox")  # the outbox's relay and pruning
    importlib.import_module("webapp.jobs.partitions")  # history tables' months ahead
    for name in DOMAINS:
        module = f"webapp.{name}.jobs"
        if importlib.util.find_spec(module) is not None:  # not every domain has periodic work
            importlib.import_module(module)
    return list(PERIODIC)


def build_cron_scheduler(connection, periodic: list[Periodic] | None = None):
    """RQ's CronScheduler with every periodic job registered on its queue (this instance's names)."""
    from rq.cron import CronScheduler

    scheduler = CronScheduler(
        connection=connection, logging_level=logging.WARNING, name=namespace.key("cron", uuid4().hex[:8])
    )
    for item in PERIODIC if periodic is None else periodic:
        scheduler.register(
            item.func,
            queue_name(item.queue),
            cron=item.cron,
            name=namespace.key(item.name),
            job_timeout=getattr(item.func, "timeout", None),
        )
    return scheduler


class InlineCron:
    """Runs due periodic jobs in this process. Cron expressions are read in UTC.

    A run that was missed (the process was down, or a job ran long) is not replayed: the next
    run is the next matching time after now, so a stopped cron never causes a burst on restart.
    """

    def __init__(self, periodic: list[Periodic], start: datetime | None = None):
        start = start or utcnow()
        self.entries: list[tuple[Periodic, datetime]] = [(item, self._next(item, start)) for item in periodic]

    @staticmethod
    def _next(item: Periodic, after: datetime) -> datetime:
        return croniter(item.cron, after).get_next(datetime)

    def due(self, now: datetime) -> list[Periodic]:
        return [item for item, at in self.entries if at <= now]

    def run_due(self, now: datetime | None = None) -> list[str]:
        """Run every job whose time has come; returns their names. A failing job is logged, not fatal."""
        now = now or utcnow()
        ran = []
        for index, (item, at) in enumerate(self.entries):
            if at > now:
                continue
            try:
                item.func()
            except Exception:
                log.exception("periodic job %s failed", item.name)
            self.entries[index] = (item, self._next(item, max(now, utcnow())))
            ran.append(item.name)
        return ran

    def seconds_until_next(self, now: datetime | None = None) -> float:
        if not self.entries:
            return MAX_SLEEP
        now = now or utcnow()
        soonest = min(at for _, at in self.entries)
        return max(0.0, min(MAX_SLEEP, (soonest - now).total_seconds()))

    def run_forever(self, stop: threading.Event, echo: Callable[[str], None] = log.info) -> None:
        while not stop.is_set():
            for name in self.run_due():
                echo(f"cron: ran {name}")
            stop.wait(self.seconds_until_next())


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM (from a process manager) and SIGINT (Ctrl-C) end the loop after the current job."""

    def handler(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
