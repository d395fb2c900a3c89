"""Webhook jobs: deliver an endpoint's due deliveries, wake endpoints whose retries fell due, prune events."""

from __future__ import annotations

from webapp.jobs import job, periodic


@job(queue="integrations", retries=0, timeout=900)
def deliver_endpoint(endpoint_id: int) -> str:
    """Idempotent: each run drains what is due now (a bounded batch under the endpoint's lock, one
    request at a time, each attempt committed as it ends) and queues the next run if more is due."""
    from webapp.developers.services import drain

    return drain(endpoint_id)


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
