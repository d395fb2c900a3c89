"""GET /api/v1/usage: aggregates by metric and billing period (calendar month, UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from webapp.core.errors import DomainError
from webapp.core.models import utcnow
from webapp.core.parsing import parse_month
from webapp.extensions import db
from webapp.usage import services
from webapp.usage.models import COUNT, MAX, SUM, UNIQUE_COUNT, UsageRecord

MAX_MONTHS = 24


def _month(value: str | None, name: str, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        first = parse_month(value)
    except ValueError as error:
        raise DomainError(f"{name}: {error}", code="invalid_parameter", details={"param": name}) from None
    return datetime(first.year, first.month, 1, tzinfo=UTC)


def usage_aggregates(org_id: int, args) -> list[dict]:
    current = services.month_start(utcnow())
    start = _month(args.get("from"), "from", services.month_start(current - timedelta(days=1)))
    end = _month(args.get("to"), "to", current)
    if end < start:
        raise DomainError("to is before from.", code="invalid_parameter", details={"param": "to"})
    if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
        raise DomainError("Ask for at most 24 months at a time.", code="invalid_parameter", details={"param": "from"})
    metric_filter = args.get("metric") or None
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
            metric = services.metric_for(code, metrics)
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
            value = {COUNT: count, SUM: total, MAX: peak, UNIQUE_COUNT: unique}[metric.aggregation]
            data.append(
                {
                    "metric": code,
                    "name": metric.name,
                    "unit": metric.unit,
                    "aggregation": metric.aggregation,
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
