"""Daily series per metric for the usage page, drawn as inline SVG by the template (attributes only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, cast, func, select

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


def daily_series(org_id: int, metric: UsageMetric, since: datetime) -> dict[str, int]:
    day = _day(UsageEvent.timestamp)
    value: ColumnElement[Any]
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
