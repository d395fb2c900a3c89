"""Daily series per metric for the usage page, as the one chart component (``webapp.core.charts``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import String, cast, func, select

from webapp.core.charts import Chart
from webapp.extensions import db
from webapp.usage.models import COUNT, MAX, SUM, UNIQUE_COUNT, UsageEvent, UsageMetric


def _day(column):
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return cast(func.date(column), String)


def daily_series(org_id: int, metric: UsageMetric, since: datetime) -> dict[str, int]:
    day = _day(UsageEvent.timestamp)
    if metric.aggregation == COUNT:
        value = func.count()
    elif metric.aggregation == MAX:
        value = func.max(UsageEvent.quantity)
    elif metric.aggregation == UNIQUE_COUNT and metric.unique_field:
        value = func.count(func.distinct(UsageEvent.data[metric.unique_field].as_string()))
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
    return {str(d): int(v or 0) for d, v in db.session.execute(stmt)}


def daily_chart(metric: UsageMetric, series: dict[str, int], start: date, days: int) -> Chart:
    """One bar per day of the period (a count of the metric's unit), days without events at zero; a
    period with no events at all shows the empty state rather than a flat line."""
    labels = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    points = [(label, series.get(label, 0)) for label in labels]
    total = sum(value for _, value in points)
    summed = metric.aggregation in (SUM, COUNT)
    note = f"{metric.aggregation.replace('_', ' ')} per day" + (f" · {total:,} {metric.unit}" if summed else "")
    return Chart(
        id=f"chart-{metric.code.replace('.', '-')}",
        title=metric.name,
        points=points,
        noun=metric.unit,
        label_heading="Day",
        value_heading=f"{metric.name} ({metric.unit})",
        note=note,
        compact=True,
        zero_is_empty=not series,
        empty_text=f"No events in the last {days} days.",
    )
