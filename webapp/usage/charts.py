"""Daily series per metric for the usage page, drawn as inline SVG by the template (attributes only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import String, case, cast, func, select, text

from webapp.extensions import db
from webapp.usage.models import COUNT, MAX, UNIQUE_COUNT, UsageEvent, UsageMetric

WIDTH, HEIGHT, LEFT, BOTTOM = 640, 150, 44, 18


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: str
    value: int


@dataclass
class Chart:
    metric: UsageMetric
    bars: list[Bar]
    peak: int
    total: int
    first: str
    last: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: int = BOTTOM


def _day(column):
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return cast(func.date(column), String)


def event_types(org_id: int) -> list[str]:
    """The event types an organization has sent, sorted. On PostgreSQL a loose index scan (one probe
    of the (organization, type, time) index per type), so an organization with millions of events
    costs as little as one with ten; a plain DISTINCT would read every one of its index entries."""
    if db.engine.dialect.name != "postgresql":
        stmt = select(UsageEvent.event_type).where(UsageEvent.organization_id == org_id).distinct()
        return sorted(db.session.scalars(stmt))
    found = text(
        """
        WITH RECURSIVE t(event_type) AS (
            (SELECT event_type FROM usage_events WHERE organization_id = :org ORDER BY event_type LIMIT 1)
            UNION ALL
            SELECT (SELECT e.event_type FROM usage_events e
                    WHERE e.organization_id = :org AND e.event_type > t.event_type
                    ORDER BY e.event_type LIMIT 1)
            FROM t WHERE t.event_type IS NOT NULL
        )
        SELECT event_type FROM t WHERE event_type IS NOT NULL
        """
    )
    return list(db.session.scalars(found, {"org": org_id}))


def daily_series_for(org_id: int, metrics: list[UsageMetric], since: datetime) -> dict[str, dict[str, int]]:
    """The daily values of several metrics in one pass over the events (one statement, however many
    types the organization sends): per type and day the count, sum and maximum, and the distinct
    values of each unique-count metric's field."""
    if not metrics:
        return {}
    day = _day(UsageEvent.timestamp)
    unique = [m for m in metrics if m.aggregation == UNIQUE_COUNT and m.unique_field]
    columns = [UsageEvent.event_type, day, func.count(), func.sum(UsageEvent.quantity), func.max(UsageEvent.quantity)]
    for metric in unique:
        field = case((UsageEvent.event_type == metric.code, UsageEvent.data[metric.unique_field].as_string()))
        columns.append(func.count(func.distinct(field)))
    stmt = (
        select(*columns)
        .where(
            UsageEvent.organization_id == org_id,
            UsageEvent.event_type.in_([m.code for m in metrics]),
            UsageEvent.timestamp >= since,
        )
        .group_by(UsageEvent.event_type, day)
    )
    by_code = {m.code: m for m in metrics}
    series: dict[str, dict[str, int]] = {m.code: {} for m in metrics}
    for code, d, count, total, peak, *distinct in db.session.execute(stmt):
        metric = by_code[code]
        if metric.aggregation == COUNT:
            value = count
        elif metric.aggregation == MAX:
            value = peak
        elif metric in unique:
            value = distinct[unique.index(metric)]
        else:
            value = total
        series[code][str(d)] = int(value or 0)
    return series


def build_chart(metric: UsageMetric, series: dict[str, int], start: date, days: int) -> Chart:
    labels = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    values = [series.get(label, 0) for label in labels]
    peak = max(values) if values else 0
    plot_w, plot_h = WIDTH - LEFT, HEIGHT - BOTTOM
    step = plot_w / max(1, days)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = 0 if peak == 0 else round(plot_h * value / peak, 1)
        bars.append(
            Bar(round(LEFT + i * step + 0.5, 1), round(plot_h - h, 1), round(max(1.0, step - 1), 1), h, label, value)
        )
    return Chart(metric, bars, peak, sum(values), labels[0], labels[-1])
