"""The partition maintenance job (``webapp/core/partitions.py``): months ahead, the DEFAULT partition emptied."""

from __future__ import annotations

from webapp.jobs.runner import job, periodic


@periodic("7 0 * * *")
@job(queue="maintenance", retries=2)
def maintain_partitions() -> dict:
    """Daily: last month, this month and three ahead exist for every history table; rows the DEFAULT
    partition caught (the job did not run for months, or a far timestamp) move to their month."""
    from webapp.audit import record
    from webapp.core.partitions import ensure_partitions

    created = ensure_partitions()
    if any(created.values()):
        record(None, "maintenance.partitions_created", None, {t: names for t, names in created.items() if names})
    return created
