"""Webhook jobs: deliver an endpoint's due deliveries, wake endpoints whose retries fell due, prune events."""

from __future__ import annotations

from webapp.core.transaction import commit_progress
from webapp.jobs import enqueue, job, periodic

BATCH = 50  # deliveries one job sends before handing over to a fresh job (other endpoints get workers too)


@job(queue="integrations", retries=0, timeout=900)
def deliver_endpoint(endpoint_id: int) -> str:
    """Idempotent: each run sends what is due now, one request at a time, each attempt committed as it ends."""
    from webapp.developers.services import deliver_next, job_started

    job_started(endpoint_id)
    outcome = "idle"
    for _ in range(BATCH):
        outcome = deliver_next(endpoint_id)
        # Records the attempt and releases the endpoint's advisory lock before the next request.
        commit_progress("each webhook attempt is recorded as it happens, and the endpoint lock released")
        if outcome != "sent":
            return outcome
    enqueue(deliver_endpoint, endpoint_id)
    return outcome


@periodic("* * * * *")
@job(queue="integrations", retries=1)
def wake_due_webhooks() -> int:
    from webapp.developers.services import wake_due

    return wake_due()


@periodic("17 3 * * *")
@job(queue="maintenance", retries=1)
def prune_old_events() -> int:
    from webapp.developers.services import prune_events

    return prune_events()
