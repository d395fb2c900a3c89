"""Retention of raw usage events: whole months, only once their billing period is closed for every
organization with events in them and the retention setting has passed; their idempotency keys go too."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import make_org, make_user
from webapp.audit.models import AuditEntry
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.usage import services
from webapp.usage.models import UsageEvent, UsageRecord, usage_event_keys


def _month(months_ago: int):
    start = services.month_start(utcnow())
    for _ in range(months_ago):
        start = services.month_start(start - timedelta(days=1))
    return start


def _ingest(org, event_id: str, at) -> None:
    # ``now`` set to the event's own day: the path and the checks the API uses, back in time.
    result = services.ingest(
        org.id, None, [{"event_id": event_id, "event_type": "sms.sent", "timestamp": at.isoformat()}], now=at
    )
    assert result["accepted"] == [event_id]


def _ids() -> set[str]:
    return set(db.session.scalars(select(UsageEvent.event_id)))


def test_old_months_go_whole_once_closed_and_their_keys_with_them(ctx):
    from webapp.usage.jobs import prune_usage_events

    owner = make_user()
    billed, unbilled = make_org(owner), make_org(owner, name="Not billed yet")
    retention = 13  # the default of usage.events_retention_months
    closed_month, open_month, kept_month = _month(retention + 3), _month(retention + 2), _month(retention)
    _ingest(billed, "closed-1", closed_month + timedelta(days=1))
    _ingest(billed, "closed-2", closed_month + timedelta(days=20))
    _ingest(billed, "open-billed", open_month + timedelta(days=2))
    _ingest(unbilled, "open-unbilled", open_month + timedelta(days=3))
    _ingest(billed, "recent", kept_month + timedelta(days=4))  # inside the retention window
    services.close_period(billed.id, closed_month)
    services.close_period(billed.id, open_month)  # the other organization's period is still open
    services.close_period(billed.id, kept_month)
    db.session.commit()

    prune_usage_events()
    db.session.expire_all()
    assert _ids() == {"open-billed", "open-unbilled", "recent"}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "maintenance.usage_events_pruned"))
    assert entry.details == {"deleted": 2, "months": [f"{closed_month:%Y-%m}"], "kept_open": [f"{open_month:%Y-%m}"]}
    keys = set(db.session.scalars(select(usage_event_keys.c.event_id)))
    assert keys == {"open-billed", "open-unbilled", "recent"}
    # the usage records the billing run read are kept: only the raw events went
    record = db.session.scalar(
        select(UsageRecord).where(UsageRecord.organization_id == billed.id, UsageRecord.period_start == closed_month)
    )
    assert record.event_count == 2 and record.closed_at is not None

    services.close_period(unbilled.id, open_month)
    db.session.commit()
    prune_usage_events()
    db.session.expire_all()
    assert _ids() == {"recent"}
    assert db.session.scalar(select(func.count()).select_from(usage_event_keys)) == 1
