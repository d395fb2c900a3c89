"""Copy API keys' last-used times from Redis into the table, once a minute."""

from __future__ import annotations

from webapp.api.services import flush_last_used
from webapp.jobs import job, periodic
from webapp.jobs.runner import redis_if_used


@periodic("* * * * *")
@job(queue="maintenance", retries=1)
def flush_api_key_last_used() -> int:
    redis = redis_if_used()
    return 0 if redis is None else flush_last_used(redis)
