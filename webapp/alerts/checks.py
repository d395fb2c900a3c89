"""What raises alerts automatically: failed jobs, failing providers, backed-up queues, refused mail."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from webapp.alerts.models import CRITICAL, ERROR, WARNING
from webapp.alerts.services import raise_alert
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.settings import get


def seen_failed_key() -> str:
    """The failed job ids already alerted on, in this instance's namespace."""
    from webapp.jobs.namespace import key

    return key("alerts", "seen_failed_jobs")


def failed_jobs() -> int:
    """Every job in RQ's failed registry has used up its retries: one alert per job function."""
    from rq.job import Job

    from webapp.jobs.runner import QUEUES, backend, get_queue, redis_connection

    if backend() != "rq":
        return 0
    redis = redis_connection()
    seen = seen_failed_key()
    raised = 0
    for name in QUEUES:
        registry = get_queue(name).failed_job_registry
        ids = [i for i in registry.get_job_ids() if not redis.sismember(seen, i)]
        for job in Job.fetch_many(ids, connection=redis):
            if job is None:
                continue
            description = job.description or job.func_name
            result = job.latest_result()
            error = (getattr(result, "exc_string", None) or "").strip().splitlines()[-1:] or [""]
            raise_alert(
                ERROR,
                f"jobs:{name}",
                f"{description} failed after all retries",
                {"last_job_id": job.id, "error": error[0][:500]},
            )
            redis.sadd(seen, job.id)
            raised += 1
    return raised


def failing_providers() -> int:
    from webapp.integrations.models import OutboundCall

    since = utcnow() - timedelta(minutes=get("alerts.scan_window_minutes"))
    threshold = get("alerts.provider_error_threshold")
    rows = db.session.execute(
        select(OutboundCall.provider, func.count(OutboundCall.id), func.max(OutboundCall.status_code))
        .where(OutboundCall.created_at >= since, OutboundCall.success.is_(False))
        .group_by(OutboundCall.provider)
        .having(func.count(OutboundCall.id) >= threshold)
    ).all()
    for provider, count, status in rows:
        raise_alert(
            ERROR,
            f"provider:{provider}",
            f"{provider} keeps answering errors",
            {"failed_calls": count, "window_minutes": get("alerts.scan_window_minutes"), "last_status": status},
        )
    return len(rows)


def queue_backlog() -> int:
    from webapp.jobs.runner import QUEUES, backend, get_queue

    if backend() != "rq":
        return 0
    threshold = get("alerts.queue_backlog_threshold")
    raised = 0
    for name in QUEUES:
        waiting = get_queue(name).count
        if waiting > threshold:
            severity = CRITICAL if waiting > threshold * 4 else WARNING
            raise_alert(severity, f"queue:{name}", f"The {name} queue is backing up", {"waiting": waiting})
            raised += 1
    return raised


def refused_mail() -> int:
    from webapp.mail.models import EmailMessage

    since = utcnow() - timedelta(minutes=get("alerts.scan_window_minutes"))
    count, last_error = db.session.execute(
        select(func.count(EmailMessage.id), func.max(EmailMessage.error)).where(
            EmailMessage.status == EmailMessage.FAILED, EmailMessage.updated_at >= since
        )
    ).one()
    if not count:
        return 0
    raise_alert(
        CRITICAL,
        "mail",
        "The mail server is refusing messages",
        {"failed_messages": count, "error": (last_error or "")[:500]},
    )
    return 1


def run_all() -> dict[str, int]:
    return {
        "failed_jobs": failed_jobs(),
        "providers": failing_providers(),
        "queues": queue_backlog(),
        "mail": refused_mail(),
    }
