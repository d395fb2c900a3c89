"""Demo: each organization on a plan (one trialing, one past due), API keys with different scopes, and a
few months of usage events aggregated into records. Prints nothing secret."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, insert, select

from webapp.core import partitions
from webapp.core.models import utcnow
from webapp.demo import step
from webapp.extensions import db
from webapp.orgs.demo import demo_org, demo_user
from webapp.subscriptions import services as subscriptions
from webapp.subscriptions.catalog import catalog_plan
from webapp.usage import services as usage
from webapp.usage.models import UsageEvent, usage_event_keys

PLANS = {
    "harare-retail": ("TEAM_PREMIUM", "YEARLY", "active"),
    "bulawayo-foods": ("TEAM_STANDARD", "MONTHLY", "past_due"),
    "kyoto-creators": ("TEAM_STANDARD", "MONTHLY", "trialing"),
}
KEYS = [
    ("POS terminals (ingest)", ["usage:write"], 5000),
    ("Reporting dashboard", ["usage:read", "services:read", "invoices:read"], 1000),
]
METRICS = [("pos.transaction", 40, 400), ("sms.sent", 2, 30), ("terminal.active", 3, 12)]
HISTORY_DAYS = 365  # a year of usage, so every month's usage record has a value


@step(order=40)
def plans_keys_and_usage() -> None:
    from webapp.api import services as api_keys  # the demo uses the API domain; usage does not
    from webapp.api.models import ApiKey

    for slug, (code, interval, state) in PLANS.items():
        org = demo_org(slug)
        if org is None:
            continue
        owner = demo_user(f"owner@{slug}.example", "")
        sub = subscriptions.current_subscription(org)
        if sub.plan.is_free and sub.status == "ACTIVE":
            if state == "trialing":
                subscriptions.start_trial(org, catalog_plan(code), owner)
            else:
                subscriptions.change_plan(sub, catalog_plan(code), interval, owner)
                if state == "past_due":
                    subscriptions.subscription_overdue(sub.id)
        for name, scopes, limit in KEYS:
            exists = db.session.scalar(select(ApiKey.id).where(ApiKey.organization_id == org.id, ApiKey.name == name))
            if not exists:
                api_keys.create_key(org, owner, name, scopes, limit, None)  # the plain key is discarded
        _usage_history(org)


def _usage_history(org) -> None:
    if db.session.scalar(select(func.count()).select_from(UsageEvent).where(UsageEvent.organization_id == org.id)):
        return
    rng = random.Random(org.slug)
    now = utcnow()
    rows = []
    for days_ago in range(HISTORY_DAYS, -1, -1):
        day = now - timedelta(days=days_ago)
        for metric, low, high in METRICS:
            for n in range(rng.randint(1, 4)):
                moment = day.replace(hour=rng.randint(7, 20), minute=rng.randint(0, 59))
                if moment > now:
                    continue
                data = {"terminal_id": f"T{rng.randint(1, 8)}"} if metric == "terminal.active" else None
                rows.append(
                    UsageEvent(
                        organization_id=org.id,
                        event_id=f"demo-{metric}-{days_ago}-{n}",
                        event_type=metric,
                        quantity=rng.randint(low, high),
                        timestamp=moment,
                        data=data,
                        received_at=moment,
                    )
                )
    start = usage.month_start(now - timedelta(days=HISTORY_DAYS))
    partitions.ensure_partitions(since=start)  # the year of history gets its months, not the DEFAULT one
    db.session.add_all(rows)
    db.session.execute(insert(usage_event_keys), [{"organization_id": org.id, "event_id": r.event_id} for r in rows])
    db.session.flush()
    while start <= now:
        usage.refresh_records(start, org.id)
        start = usage.next_month(start)
