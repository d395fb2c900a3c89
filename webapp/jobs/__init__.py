"""Background jobs: written to the outbox in the transaction that asks for them, sent to RQ on Redis
after the commit (or by the relay once Redis is back: ``webapp/jobs/outbox.py``).

With no Redis the app runs them in-process right after the request (or command) commits, so a
first run works on a bare machine. Jobs take ids, reload their rows and are safe to run twice.
"""

from webapp.jobs.progress import progress_fragment
from webapp.jobs.runner import PERIODIC, QUEUES, drain_inline, enqueue, job, periodic

__all__ = ["PERIODIC", "QUEUES", "drain_inline", "enqueue", "job", "periodic", "progress_fragment"]
