"""Periodic work: renew subscriptions whose period ended, expire unpaid trials."""

from __future__ import annotations

from webapp.jobs import job, periodic
from webapp.subscriptions import services


@periodic("7 * * * *")
@job(queue="billing", retries=3)
def renew_subscriptions() -> int:
    return services.renew_due()


@periodic("12 * * * *")
@job(queue="billing", retries=3)
def expire_trials() -> int:
    return services.expire_trials()
