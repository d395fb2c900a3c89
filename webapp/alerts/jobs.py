"""The periodic scan that raises alerts."""

from __future__ import annotations

from webapp.alerts import checks
from webapp.jobs import job, periodic


@periodic("*/5 * * * *")
@job(queue="maintenance", retries=0)
def scan_for_alerts() -> dict:
    return checks.run_all()
