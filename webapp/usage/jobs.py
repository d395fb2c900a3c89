"""Keep usage records current; drop raw events past their retention."""

from __future__ import annotations

from webapp.audit import record
from webapp.jobs import job, periodic
from webapp.usage import services


@periodic("*/5 * * * *")
@job(queue="default", retries=2)
def refresh_usage_records() -> int:
    return services.refresh_current()


@periodic("37 3 * * *")
@job(queue="maintenance", retries=1)
def prune_usage_events() -> dict:
    """Daily: months of raw events past ``usage.events_retention_months`` whose billing periods are closed."""
    pruned = services.prune_events()
    if pruned["months"] or pruned["kept_open"]:
        record(None, "maintenance.usage_events_pruned", None, pruned)
    return pruned
