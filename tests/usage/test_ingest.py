import threading
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from tests.api.helpers import bearer, org_with_key
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.usage.models import UsageEvent, UsageRecord


def _event(i, **kw):
    return {
        "event_id": f"evt-{i}",
        "event_type": "pos.transaction",
        "quantity": 2,
        "timestamp": utcnow().isoformat(),
        **kw,
    }


def _stored(org_id):
    return db.session.scalar(select(func.count()).select_from(UsageEvent).where(UsageEvent.organization_id == org_id))


def test_single_event_then_duplicate(client, ctx):
    _, org, _, plain = org_with_key()
    r = client.client.post("/api/v1/usage-events", json=_event(1, data={"terminal_id": "T1"}), headers=bearer(plain))
    assert r.status_code == 200
    assert r.json["accepted"] == ["evt-1"] and r.json["duplicate"] == [] and r.json["counts"]["accepted"] == 1
    r = client.client.post("/api/v1/usage-events", json=_event(1), headers=bearer(plain))
    assert r.status_code == 200 and r.json["accepted"] == [] and r.json["duplicate"] == ["evt-1"]
    assert _stored(org.id) == 1
    stored = db.session.scalar(select(UsageEvent))
    assert stored.quantity == 2 and stored.data == {"terminal_id": "T1"}


def test_batch_reports_accepted_duplicate_and_rejected_with_reasons(client, ctx):
    _, org, _, plain = org_with_key()
    client.client.post("/api/v1/usage-events", json=_event(0), headers=bearer(plain))
    now = utcnow()
    events = [
        _event(0),  # stored before
        _event(1),
        _event(1),  # twice in this batch
        _event(2, timestamp=(now - timedelta(days=36)).isoformat()),
        _event(3, timestamp=(now + timedelta(minutes=10)).isoformat()),
        _event(4, quantity=-1),
        _event(5, timestamp="yesterday"),
        {"event_type": "pos.transaction", "timestamp": now.isoformat()},
        _event(6, extra=1),
        _event(7, event_type="Bad Type"),
        _event(8, timestamp=now.replace(tzinfo=None).isoformat()),
        _event(9, timestamp=(now - timedelta(days=34)).isoformat(), quantity=5),
    ]
    r = client.client.post("/api/v1/usage-events", json={"events": events}, headers=bearer(plain))
    assert r.status_code == 200
    body = r.json
    assert body["accepted"] == ["evt-1", "evt-9"]
    assert sorted(body["duplicate"]) == ["evt-0", "evt-1"]
    codes = {(x["index"], x["code"]) for x in body["rejected"]}
    assert codes == {
        (3, "timestamp_too_old"),
        (4, "timestamp_in_future"),
        (5, "invalid_quantity"),
        (6, "invalid_timestamp"),
        (7, "invalid_event_id"),
        (8, "unknown_field"),
        (9, "invalid_event_type"),
        (10, "invalid_timestamp"),
    }
    assert all(x["message"] for x in body["rejected"])
    assert body["counts"] == {"accepted": 2, "duplicate": 2, "rejected": 8}
    assert _stored(org.id) == 3


def test_single_invalid_event_is_422_and_nothing_stored(client, ctx):
    _, org, _, plain = org_with_key()
    r = client.client.post("/api/v1/usage-events", json=_event(1, quantity="many"), headers=bearer(plain))
    assert r.status_code == 422
    assert r.json["error"]["code"] == "validation_failed"
    assert r.json["error"]["details"]["rejected"][0]["code"] == "invalid_quantity"
    assert _stored(org.id) == 0


def test_batch_limits_and_bad_bodies(client, ctx):
    _, org, _, plain = org_with_key()
    r = client.client.post(
        "/api/v1/usage-events", json={"events": [_event(i) for i in range(1001)]}, headers=bearer(plain)
    )
    assert r.status_code == 413 and r.json["error"]["code"] == "batch_too_large"
    r = client.client.post("/api/v1/usage-events", json={"events": []}, headers=bearer(plain))
    assert r.status_code == 422 and r.json["error"]["code"] == "empty_batch"
    r = client.client.post(
        "/api/v1/usage-events", data="not json", headers={**bearer(plain), "Content-Type": "application/json"}
    )
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_body"
    r = client.client.post("/api/v1/usage-events", json=[1, 2], headers=bearer(plain))
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_body"
    assert _stored(org.id) == 0
    r = client.client.post(
        "/api/v1/usage-events", json={"events": [_event(i) for i in range(1000)]}, headers=bearer(plain)
    )
    assert r.status_code == 200 and r.json["counts"]["accepted"] == 1000
    assert _stored(org.id) == 1000


def test_same_event_ids_in_two_organizations_are_separate(client, ctx):
    _, _org_a, _, key_a = org_with_key()
    _, _org_b, _, key_b = org_with_key()
    assert client.client.post("/api/v1/usage-events", json=_event(1), headers=bearer(key_a)).json["accepted"] == [
        "evt-1"
    ]
    assert client.client.post("/api/v1/usage-events", json=_event(1), headers=bearer(key_b)).json["accepted"] == [
        "evt-1"
    ]


@pytest.mark.postgres
def test_the_same_batch_twice_at_once_is_stored_once(ctx, live_server):
    _, org, _, plain = org_with_key()
    batch = {"events": [_event(i) for i in range(500)]}
    results, barrier = [], threading.Barrier(4)

    def send():
        with httpx.Client(base_url=live_server, timeout=30) as http:
            barrier.wait()
            results.append(http.post("/api/v1/usage-events", json=batch, headers=bearer(plain)).json())

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4
    accepted = [e for r in results for e in r["accepted"]]
    assert sorted(accepted) == sorted(e["event_id"] for e in batch["events"])  # each id accepted exactly once
    assert sum(len(r["duplicate"]) for r in results) == 3 * 500
    db.session.expire_all()
    assert _stored(org.id) == 500


def test_records_aggregate_count_sum_max_unique(client, ctx, run_jobs):
    from webapp.usage.jobs import refresh_usage_records
    from webapp.usage.services import month_start

    _, org, _, plain = org_with_key()
    now = utcnow()
    events = [
        {
            "event_id": f"t{i}",
            "event_type": "terminal.active",
            "quantity": q,
            "timestamp": now.isoformat(),
            "data": {"terminal_id": tid},
        }
        for i, (q, tid) in enumerate([(1, "A"), (4, "B"), (2, "A"), (3, "C")])
    ] + [
        {"event_id": f"p{i}", "event_type": "pos.transaction", "quantity": i, "timestamp": now.isoformat()}
        for i in range(1, 6)
    ]
    client.client.post("/api/v1/usage-events", json={"events": events}, headers=bearer(plain))
    refresh_usage_records()
    records = {
        r.metric: r for r in db.session.scalars(select(UsageRecord).where(UsageRecord.organization_id == org.id))
    }
    active = records["terminal.active"]
    assert (active.event_count, active.sum_quantity, active.max_quantity, active.unique_count) == (4, 10, 4, 3)
    assert active.value == 3 and active.aggregation == "unique_count"
    pos = records["pos.transaction"]
    assert (pos.event_count, pos.sum_quantity, pos.max_quantity, pos.value) == (5, 15, 5, 15)
    assert active.period_start == month_start(now)
    # Running again is idempotent and picks up new events exactly.
    client.client.post(
        "/api/v1/usage-events",
        json={"event_id": "p9", "event_type": "pos.transaction", "quantity": 10, "timestamp": now.isoformat()},
        headers=bearer(plain),
    )
    refresh_usage_records()
    refresh_usage_records()
    db.session.expire_all()
    pos = db.session.scalar(select(UsageRecord).where(UsageRecord.metric == "pos.transaction"))
    assert (pos.event_count, pos.value) == (6, 25)

    r = client.client.get("/api/v1/usage?metric=pos.transaction", headers=bearer(plain))
    current = [row for row in r.json["data"] if row["period_start"].startswith(now.strftime("%Y-%m"))]
    assert current[0]["value"] == 25 and current[0]["aggregation"] == "sum" and current[0]["closed"] is False


def test_closed_period_refuses_late_events(client, ctx):
    from webapp.usage.services import close_period, month_start

    _, org, _, plain = org_with_key()
    now = utcnow()
    last_month = month_start(month_start(now) - timedelta(days=1))
    late = max(last_month + timedelta(days=20), now - timedelta(days=30))
    if late >= month_start(now):
        late = month_start(now) - timedelta(hours=1)
    close_period(org.id, last_month)
    db.session.commit()
    r = client.client.post(
        "/api/v1/usage-events",
        json={"events": [_event(1, timestamp=late.isoformat()), _event(2)]},
        headers=bearer(plain),
    )
    assert r.json["accepted"] == ["evt-2"]
    assert r.json["rejected"][0]["code"] == "period_closed"


def test_usage_page_shows_charts_records_and_filtered_events(client, ctx):
    from webapp.usage.jobs import refresh_usage_records

    owner, org, _, plain = org_with_key()
    now = utcnow()
    events = [
        {
            "event_id": f"sms-{i}",
            "event_type": "sms.sent",
            "quantity": 3,
            "timestamp": (now - timedelta(days=i % 5)).isoformat(),
        }
        for i in range(20)
    ]
    events.append(_event(99))
    client.client.post("/api/v1/usage-events", json={"events": events}, headers=bearer(plain))
    refresh_usage_records()
    client.login(owner.email)
    page = client.get(f"/o/{org.slug}/usage").get_data(as_text=True)
    assert 'id="chart-sms-sent"' in page and "<svg" in page and "<rect" in page
    assert "SMS sent" in page and "POS transactions" in page and "evt-99" in page
    filtered = client.get(f"/o/{org.slug}/usage?event_type=sms.sent&event_id=sms-1").get_data(as_text=True)
    assert "sms-1" in filtered and "sms-12" in filtered and "evt-99" not in filtered and "sms-2<" not in filtered
    fragment = client.get(
        f"/o/{org.slug}/usage?event_type=sms.sent", htmx=True, headers={"HX-Target": "usage_events"}
    ).get_data(as_text=True)
    assert "<svg" not in fragment and "sms-" in fragment


def test_an_event_id_is_stored_once_even_with_timestamps_in_two_months(client, ctx):
    """Idempotency is by event id alone: on PostgreSQL the events are partitioned by timestamp month,
    and a repeat with another month's timestamp (another partition) is still a duplicate."""
    from webapp.core import partitions
    from webapp.usage.services import month_start

    _, org, _, plain = org_with_key()
    now = utcnow()
    earlier = now - timedelta(days=33)  # always last month or the one before: a month has at most 31 days
    assert month_start(earlier) != month_start(now)
    for first, second, event_id in ((earlier, now, "evt-old-first"), (now, earlier, "evt-new-first")):
        r = client.client.post(
            "/api/v1/usage-events", json=_event(event_id, timestamp=first.isoformat()), headers=bearer(plain)
        )
        assert r.json["accepted"] == [f"evt-{event_id}"]
        r = client.client.post(
            "/api/v1/usage-events",
            json={"events": [_event(event_id, timestamp=second.isoformat(), quantity=7)]},
            headers=bearer(plain),
        )
        assert r.status_code == 200 and r.json["accepted"] == [] and r.json["duplicate"] == [f"evt-{event_id}"]
        (stored,) = db.session.scalars(select(UsageEvent).where(UsageEvent.event_id == f"evt-{event_id}")).all()
        assert stored.timestamp == first and stored.quantity == 2
        if partitions.partitioned():
            held = partitions.partition_holding("usage_events", stored.id)
            assert held in {
                f"history.{partitions.month_name('usage_events', month_start(first))}",
                "history.usage_events_default",
            }
    assert _stored(org.id) == 2
