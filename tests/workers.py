"""Running queued RQ jobs inside a test, the way ``flask worker --burst`` would."""

from __future__ import annotations

from rq import SimpleWorker


class BurstWorker(SimpleWorker):
    """A burst worker without RQ's command channel. Nobody sends commands to a worker that lives for
    one call, and stopping that channel's thread can wait up to its 60 s poll when the subscription's
    confirmation races the stop: a test that ran jobs in a loop then waited a minute on one call."""

    def subscribe(self) -> None:
        pass

    def unsubscribe(self) -> None:
        pass


def work(queues, connection, *, logging_level: str = "WARNING", with_scheduler: bool = False) -> None:
    """Run everything waiting on ``queues``; with ``with_scheduler``, first move the scheduled jobs and
    retries whose time has come onto their queues (the worker's scheduler)."""
    BurstWorker(list(queues), connection=connection).work(
        burst=True, with_scheduler=with_scheduler, logging_level=logging_level
    )
