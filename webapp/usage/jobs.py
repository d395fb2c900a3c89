"""Keep usage records current; copy API-key last-used times from Redis."""

from __future__ import annotations

from webapp.jobs import job, periodic
from webapp.usage import services


@periodic("*/5 * * * *")
@job(queue="default", retries=2)
def refresh_usage_records() -> int:
    return services.refresh_current()
