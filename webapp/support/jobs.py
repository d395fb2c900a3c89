"""Resolved tickets close themselves after ``support.auto_close_days``."""

from __future__ import annotations

from webapp.jobs import job, periodic
from webapp.support import services


@periodic("17 * * * *")
@job(queue="maintenance", retries=2)
def close_resolved_tickets() -> int:
    return services.auto_close_resolved()
