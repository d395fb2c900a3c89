"""GET /api/v1/usage: aggregates by metric and billing period (calendar month, UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from webapp.extensions import db
from webapp.usage import services
from webapp.usage.models import COUNT, MAX, SUM, UNIQUE_COUNT, UsageRecord


def usage_aggregates(org_id: int, start: datetime, end: datetime, metric: str | None) -> list[dict]:
    """Each metric's aggregate for each month from ``start`` to ``end`` (both the first instants of a
    month; ``webapp.usage.schemas.UsageParams`` checks the window)."""
    metric_filter = metric or None
    closed = {
        (r.metric, r.period_start.astimezone(UTC)): r
        for r in db.session.scalars(
            select(UsageRecord).where(
                UsageRecord.organization_id == org_id,
                UsageRecord.period_start >= start,
                UsageRecord.period_start <= end,
                UsageRecord.closed_at.is_not(None),
            )
        )
    }
    metrics = services.known_metrics()
    data = []
    month = start
    while month <= end:
        live, _ = services._aggregate_rows(month, services.next_month(month), org_id)
        codes = {code for (_, code) in live} | {code for (code, m) in closed if m == month}
        for code in sorted(codes):
            if metric_filter and code != metric_filter:
                continue
            definition = services.metric_for(code, metrics)
            record = closed.get((code, month))
            if record is not None:
                count, total, peak, unique = (
                    record.event_count,
                    record.sum_quantity,
                    record.max_quantity,
                    record.unique_count,
                )
            else:
                count, total, peak, unique = live[(org_id, code)]
            value = {COUNT: count, SUM: total, MAX: peak, UNIQUE_COUNT: unique}[definition.aggregation]
            data.append(
                {
                    "metric": code,
                    "name": definition.name,
                    "unit": definition.unit,
                    "aggregation": definition.aggregation,
                    "period_start": month.isoformat().replace("+00:00", "Z"),
                    "period_end": services.next_month(month).isoformat().replace("+00:00", "Z"),
                    "value": value,
                    "event_count": count,
                    "sum": total,
                    "max": peak,
                    "unique_count": unique,
                    "closed": record is not None,
                }
            )
        month = services.next_month(month)
    return data
