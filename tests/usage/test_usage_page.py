"""The usage page's charts: every type an organization sent, each metric's aggregation per day, read
from the daily rollup (``usage_daily``, kept by a trigger on the events) in one statement for all the
charts (however many types) plus one for the list of types; the rollup equals the raw events under
repeats, concurrent batches, COPY, the partition job's moves and the migration's backfill."""

from datetime import timedelta

from sqlalchemy import event

from tests.factories import make_org, make_user
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.usage import services
from webapp.usage.charts import daily_series_for, event_types


def _send(org, rows):
    now = utcnow()
    events = [
        {"event_id": f"e{i}", "event_type": kind, "quantity": quantity, "timestamp": (now - ago).isoformat(), **extra}
        for i, (kind, quantity, ago, extra) in enumerate(rows)
    ]
    assert len(services.ingest(org.id, None, events, now)["accepted"]) == len(events)
    db.session.commit()


def test_each_metric_is_aggregated_per_day_by_its_own_rule(client, ctx):
    owner = make_user()
    org, other = make_org(owner), make_org(make_user())
    today, yesterday = timedelta(0), timedelta(days=1)
    _send(
        org,
        [
            ("api.request", 5, today, {}),  # COUNT: 2 today, 1 yesterday
            ("api.request", 9, today, {}),
            ("api.request", 1, yesterday, {}),
            ("pos.transaction", 3, today, {}),  # SUM: 3 + 4
            ("pos.transaction", 4, today, {}),
            ("storage.peak_gb", 7, today, {}),  # MAX: 12
            ("storage.peak_gb", 12, today, {}),
            ("terminal.active", 1, today, {"data": {"terminal_id": "T1"}}),  # UNIQUE: T1, T2
            ("terminal.active", 1, today, {"data": {"terminal_id": "T1"}}),
            ("terminal.active", 1, today, {"data": {"terminal_id": "T2"}}),
        ],
    )
    _send(other, [("sms.sent", 50, today, {})])
    assert event_types(org.id) == ["api.request", "pos.transaction", "storage.peak_gb", "terminal.active"]
    assert event_types(other.id) == ["sms.sent"]

    metrics = services.known_metrics()
    since = (utcnow() - timedelta(days=6)).replace(hour=0, minute=0, second=0, microsecond=0)
    series = daily_series_for(org.id, [metrics[code] for code in event_types(org.id)], since)
    day, day_before = utcnow().date().isoformat(), (utcnow() - yesterday).date().isoformat()
    assert series == {
        "api.request": {day: 2, day_before: 1},
        "pos.transaction": {day: 7},
        "storage.peak_gb": {day: 12},
        "terminal.active": {day: 2},
    }

    client.login(owner.email)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        page = client.get(f"/o/{org.slug}/usage")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("API requests", "POS transactions", "Peak storage", "Active terminals"):
        assert name in html
    assert sum("usage_daily" in s for s in statements) == 2  # the list of types, then one read for four charts
    assert not any("usage_events" in s and ("GROUP BY" in s or "DISTINCT" in s) for s in statements)  # no scan


def _raw_series(org_id, metrics, since):
    """The same figures straight from the raw events (what the charts read before the rollup)."""
    from sqlalchemy import String, cast, func, select

    from webapp.usage.models import COUNT, MAX, UNIQUE_COUNT, UsageEvent

    day = func.to_char(func.timezone("UTC", UsageEvent.timestamp), "YYYY-MM-DD")
    if db.engine.dialect.name != "postgresql":
        day = cast(func.date(UsageEvent.timestamp), String)
    series = {m.code: {} for m in metrics}
    for metric in metrics:
        if metric.aggregation == UNIQUE_COUNT:
            value = func.count(func.distinct(UsageEvent.data[metric.unique_field].as_string()))
        elif metric.aggregation == COUNT:
            value = func.count()
        elif metric.aggregation == MAX:
            value = func.max(UsageEvent.quantity)
        else:
            value = func.sum(UsageEvent.quantity)
        stmt = (
            select(day, value)
            .where(
                UsageEvent.organization_id == org_id,
                UsageEvent.event_type == metric.code,
                UsageEvent.timestamp >= since,
            )
            .group_by(day)
        )
        series[metric.code] = {str(d): int(v or 0) for d, v in db.session.execute(stmt)}
    return series


def _rollup_equals_raw(org_id):
    metrics = services.known_metrics()
    shown = [services.metric_for(code, metrics) for code in event_types(org_id)]
    since = (utcnow() - timedelta(days=40)).replace(hour=0, minute=0, second=0, microsecond=0)
    rolled = daily_series_for(org_id, shown, since)
    assert rolled == _raw_series(org_id, shown, since)
    return rolled


def _generated(rng, n, tag):
    kinds = ("api.request", "pos.transaction", "storage.peak_gb", "terminal.active", "sms.sent")
    now = utcnow()
    events = []
    for _ in range(n):
        kind = rng.choice(kinds)
        event = {
            "event_id": f"{tag}-{rng.randrange(n)}",  # ids repeat within and across batches on purpose
            "event_type": kind,
            "quantity": rng.randrange(0, 50),
            "timestamp": (now - timedelta(hours=rng.randrange(0, 24 * 34))).isoformat(),
        }
        if kind == "terminal.active" and rng.random() < 0.9:
            event["data"] = {"terminal_id": f"T{rng.randrange(6)}"}
        events.append(event)
    return events


def test_the_rollup_equals_the_raw_events_under_repeats_and_two_months(client, ctx):
    """Generated batches whose ids repeat within a batch, across batches and across months, sent
    through the API and the service, some twice: the page's figures equal the raw events' day by day."""
    import random

    from tests.api.helpers import bearer, org_with_key

    _, org, _, plain = org_with_key()
    rng = random.Random(19)
    for round_ in range(4):
        batch = _generated(rng, 300, "g")
        for _ in range(2):  # each batch twice: the second time everything is a duplicate
            response = client.client.post("/api/v1/usage-events", json={"events": batch}, headers=bearer(plain))
            assert response.status_code == 200
        services.ingest(org.id, None, _generated(rng, 200, f"s{round_}"))
        db.session.commit()
    rolled = _rollup_equals_raw(org.id)
    assert sum(len(days) for days in rolled.values()) > 30  # many days, every metric
    assert set(rolled) == {"api.request", "pos.transaction", "storage.peak_gb", "terminal.active", "sms.sent"}


def test_the_rollup_is_exact_when_the_same_batch_arrives_four_times_at_once(ctx, live_server):
    import threading

    import httpx

    from tests.api.helpers import bearer, org_with_key

    _, org, _, plain = org_with_key()
    now = utcnow()
    batch = {
        "events": [
            {"event_id": f"c-{i}", "event_type": "pos.transaction", "quantity": 1 + i % 5, "timestamp": now.isoformat()}
            for i in range(400)
        ]
    }
    barrier = threading.Barrier(4)
    answers = []

    def send():
        with httpx.Client(base_url=live_server, timeout=30) as http:
            barrier.wait()
            answers.append(http.post("/api/v1/usage-events", json=batch, headers=bearer(plain)).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200] * 4
    db.session.expire_all()
    rolled = _rollup_equals_raw(org.id)
    assert sum(rolled["pos.transaction"].values()) == sum(1 + i % 5 for i in range(400))


def test_rows_inserted_by_the_orm_and_moved_by_the_partition_job_are_counted_once(ctx):
    """Whatever stores an event updates the rollup (here the ORM, as the demo data does); rows the
    partition job moves out of the DEFAULT partition into their month are not counted again."""
    from webapp.core import partitions
    from webapp.usage.models import UsageEvent, usage_event_keys

    org = make_org(make_user())
    now = utcnow()
    rows = [
        UsageEvent(organization_id=org.id, event_id=f"o{i}", event_type="api.request", quantity=1, timestamp=now)
        for i in range(5)
    ]
    db.session.add_all(rows)
    db.session.execute(usage_event_keys.insert(), [{"organization_id": org.id, "event_id": r.event_id} for r in rows])
    db.session.commit()
    before = _rollup_equals_raw(org.id)
    assert sum(before["api.request"].values()) == 5
    if partitions.partitioned():
        from sqlalchemy import text

        # Put the rows into the DEFAULT partition as if the job had not run, then let the job move them.
        month = partitions.month_name("usage_events", partitions.month_start(now))
        db.session.execute(text(f"ALTER TABLE usage_events DETACH PARTITION history.{month}"))
        db.session.execute(text("INSERT INTO history.usage_events_default SELECT * FROM history." + month))
        db.session.execute(text(f"DROP TABLE history.{month}"))
        assert partitions.split_default("usage_events") == 5
        db.session.commit()
        assert _rollup_equals_raw(org.id) == before


def test_the_migration_backfills_the_rollup_from_the_stored_events(ctx):
    import importlib.util
    from pathlib import Path

    from webapp.usage.models import usage_daily, usage_daily_values

    org = make_org(make_user())
    now = utcnow()
    _send(
        org,
        [
            ("pos.transaction", 3, timedelta(0), {}),
            ("pos.transaction", 4, timedelta(days=2), {}),
            ("terminal.active", 1, timedelta(0), {"data": {"terminal_id": "T1"}}),
            ("terminal.active", 1, timedelta(0), {"data": {"terminal_id": "T2"}}),
        ],
    )
    expected = _rollup_equals_raw(org.id)
    db.session.execute(usage_daily_values.delete())
    db.session.execute(usage_daily.delete())
    assert daily_series_for(org.id, [services.known_metrics()["pos.transaction"]], now - timedelta(days=5)) == {
        "pos.transaction": {}
    }
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "20261206_usage_daily_rollup.py"
    spec = importlib.util.spec_from_file_location("usage_daily_rollup", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration.backfill(db.session.connection())
    assert _rollup_equals_raw(org.id) == expected
