"""Jobs the job tests queue. They live in an importable module because an RQ worker finds a job's
function by its dotted name."""

from __future__ import annotations

from flask import current_app

from webapp.jobs import job


@job(queue="default", retries=3, backoff=(10, 60, 300))
def flaky(key: str) -> None:
    """Fails on its first two runs, succeeds on the third (attempts counted in Redis)."""
    redis = current_app.extensions["tessera.redis"]
    attempt = redis.incr(key)
    if attempt <= 2:
        raise RuntimeError(f"attempt {attempt} failed on purpose")
    redis.set(f"{key}:done", attempt)


@job(queue="maintenance", retries=0)
def write_audit(label: str) -> None:
    from webapp.audit import record

    record(None, "test.job_ran", None, {"label": label})


@job(queue="default", retries=0)
def always_fails(label: str) -> None:
    raise ValueError(f"boom: {label}")


@job(queue="maintenance", retries=0)
def tick() -> None:
    """A periodic job takes no arguments."""
    write_audit("tick")
