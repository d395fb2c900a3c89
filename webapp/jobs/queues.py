"""What staff see of the job queues: counts per queue from RQ's registries, failed jobs, retry, delete.

With the in-process backend there is nothing to inspect: jobs run right after the request commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.results import Result

from webapp.core.errors import NotFound
from webapp.jobs.runner import QUEUES, backend, get_queue, redis_connection


@dataclass
class QueueStats:
    name: str
    queued: int
    started: int
    scheduled: int
    failed: int
    finished: int


@dataclass
class FailedJob:
    id: str
    queue: str
    description: str
    failed_at: datetime | None
    enqueued_at: datetime | None
    traceback: str


def uses_redis() -> bool:
    return backend() == "rq"


def queue_stats() -> list[QueueStats]:
    stats = []
    for name in QUEUES:
        queue = get_queue(name)
        stats.append(
            QueueStats(
                name=name,
                queued=queue.count,
                started=queue.started_job_registry.count,
                scheduled=queue.scheduled_job_registry.count,
                failed=queue.failed_job_registry.count,
                finished=queue.finished_job_registry.count,
            )
        )
    return stats


def _traceback(job: Job) -> str:
    result = job.latest_result()
    if result is not None and result.type == Result.Type.FAILED:
        return result.exc_string or ""
    return ""


def failed_jobs(queue_name: str | None = None, limit: int = 50) -> list[FailedJob]:
    """Most recent failures first, with the traceback RQ kept (``exc_info``)."""
    if queue_name and queue_name not in QUEUES:
        raise NotFound("There is no such queue.")
    found: list[FailedJob] = []
    for name in [queue_name] if queue_name else QUEUES:
        registry = get_queue(name).failed_job_registry
        ids = registry.get_job_ids(0, limit - 1, desc=True)
        for job in Job.fetch_many(ids, connection=redis_connection()):
            if job is None:
                continue
            found.append(
                FailedJob(
                    id=job.id,
                    queue=name,
                    description=job.description or job.func_name or "",
                    failed_at=job.ended_at,
                    enqueued_at=job.enqueued_at,
                    traceback=_traceback(job),
                )
            )
    found.sort(key=lambda j: j.failed_at.timestamp() if j.failed_at else 0.0, reverse=True)
    return found[:limit]


def _failed_job(queue_name: str, job_id: str) -> Job:
    if queue_name not in QUEUES:
        raise NotFound("There is no such queue.")
    registry = get_queue(queue_name).failed_job_registry
    if job_id not in registry.get_job_ids():
        raise NotFound("That job is not among the failed jobs any more.")
    try:
        return Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        raise NotFound("That job is not among the failed jobs any more.") from None


def retry_failed(queue_name: str, job_id: str, actor) -> Job:
    """Put a failed job back on its queue (RQ's requeue), audited."""
    from webapp.audit import record

    job = _failed_job(queue_name, job_id)
    try:
        job.requeue()
    except InvalidJobOperation:
        raise NotFound("That job is not among the failed jobs any more.") from None
    record(actor, "job.retried", None, {"queue": queue_name, "job_id": job_id, "description": job.description})
    return job


def delete_failed(queue_name: str, job_id: str, actor) -> None:
    from webapp.audit import record

    job = _failed_job(queue_name, job_id)
    description = job.description
    job.delete()
    record(actor, "job.deleted", None, {"queue": queue_name, "job_id": job_id, "description": description})
