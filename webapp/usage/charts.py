"""Daily series per metric for the usage page, as the one chart component (``webapp.core.charts``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import String, case, cast, func, select, text

from webapp.core import display
from webapp.core.charts import Chart, Point
from webapp.extensions import db
from webapp.usage.models import COUNT, MAX, SUM, UNIQUE_COUNT, UsageEvent, UsageMetric


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


def daily_chart(metric: UsageMetric, series: dict[str, int], start: date, days: int) -> Chart:
    """One bar per day of the period (a count of the metric's unit), days without events at zero; a
    period with no events at all shows the empty state rather than a flat line."""
    labels = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    points = [Point(label, series.get(label, 0)) for label in labels]
    total = sum(p.value for p in points)
    summed = metric.aggregation in (SUM, COUNT)
    how = display.translated(metric.aggregation.replace("_", " "))
    note = gettext("%(how)s per day", how=how) + (f" · {display.count(total)} {metric.unit}" if summed else "")
    return Chart(
        id=f"chart-{metric.code.replace('.', '-')}",
        title=metric.name,
        points=points,
        noun=metric.unit,
        label_heading=gettext("Day"),
        value_heading=f"{metric.name} ({metric.unit})",
        note=note,
        compact=True,
        zero_is_empty=not series,
        empty_text=gettext("No events in the last %(days)s days.", days=days),
    )
