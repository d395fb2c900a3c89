"""Background jobs: enqueued only after the current transaction commits, run by RQ on Redis.

With no Redis the app runs them in-process right after the request (or command) commits, so a
first run works on a bare machine. Jobs take ids, reload their rows and are safe to run twice.
"""

from webapp.jobs.progress import progress_fragment
from webapp.jobs.runner import PERIODIC, QUEUES, drain_inline, enqueue, job, periodic

__all__ = ["PERIODIC", "QUEUES", "drain_inline", "enqueue", "job", "periodic", "progress_fragment"]
