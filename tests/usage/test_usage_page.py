"""The usage page's charts: every type an organization sent, each metric's aggregation per day, read
in one statement for all the charts (however many types) plus one for the list of types."""

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
    assert sum("GROUP BY" in s and "usage_events" in s for s in statements) == 1  # one read for four charts
