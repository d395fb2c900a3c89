"""Daily series per metric for the usage page, as the one chart component (``webapp.core.charts``),
read from the daily rollup (``usage_daily``), never from the raw events."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import case, func, literal, select

from webapp.core import display
from webapp.core.charts import Chart, Point
from webapp.extensions import db
from webapp.usage.models import COUNT, MAX, SUM, UNIQUE_COUNT, UsageMetric, usage_daily, usage_daily_values


def event_types(org_id: int) -> list[str]:
    """The event types an organization has sent, sorted: read from the daily rollup (a row per type and
    day, so a few hundred at most), never from the raw events."""
    stmt = select(usage_daily.c.metric).where(usage_daily.c.organization_id == org_id).distinct()
    return sorted(db.session.scalars(stmt))


def daily_series_for(org_id: int, metrics: list[UsageMetric], since: datetime) -> dict[str, dict[str, int]]:
    """The daily values of several metrics in one statement over the daily rollup (``usage_daily``, kept
    by the events' trigger, its shards added up): per type and day the count, sum and maximum, and for
    a unique-count metric the number of distinct values of its field that day (``usage_daily_values``)."""
    if not metrics:
        return {}
    daily, values = usage_daily, usage_daily_values
    distinct = (
        select(func.count())
        .where(
            values.c.organization_id == daily.c.organization_id,
            values.c.metric == daily.c.metric,
            values.c.day == daily.c.day,
        )
        .correlate(daily)
        .scalar_subquery()
    )
    unique = {m.code for m in metrics if m.aggregation == UNIQUE_COUNT and m.unique_field}
    stmt = (
        select(
            daily.c.metric,
            daily.c.day,
            func.sum(daily.c.event_count),
            func.sum(daily.c.sum_quantity),
            func.max(daily.c.max_quantity),
            case((daily.c.metric.in_(unique), distinct), else_=0) if unique else literal(0),
        )
        .where(
            daily.c.organization_id == org_id,
            daily.c.metric.in_([m.code for m in metrics]),
            daily.c.day >= since.date(),
        )
        .group_by(daily.c.organization_id, daily.c.metric, daily.c.day)  # the day's shards added up
    )
    by_code = {m.code: m for m in metrics}
    series: dict[str, dict[str, int]] = {m.code: {} for m in metrics}
    for code, day, count, total, peak, distinct_count in db.session.execute(stmt):
        metric = by_code[code]
        if metric.aggregation == COUNT:
            value = count
        elif metric.aggregation == MAX:
            value = peak
        elif code in unique:
            value = distinct_count
        else:
            value = total
        series[code][day.isoformat()] = int(value or 0)
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
