"""GET /api/v1/usage: aggregates by metric and billing period (calendar month, UTC)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from webapp.core.errors import DomainError
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.usage import services
from webapp.usage.models import COUNT, MAX, SUM, UNIQUE_COUNT, UsageRecord

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_MONTHS = 24


def _month(value: str | None, name: str, default: datetime) -> datetime:
    if not value:
        return default
    match = MONTH.match(value)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise DomainError(f"{name} is a month like 2026-11.", code="invalid_parameter", details={"param": name})
    return datetime(int(match.group(1)), int(match.group(2)), 1, tzinfo=UTC)


def usage_aggregates(org_id: int, args) -> list[dict]:
    current = services.month_start(utcnow())
    start = _month(args.get("from"), "from", services.month_start(current - timedelta(days=1)))
    end = _month(args.get("to"), "to", current)
    if end < start:
        raise DomainError("to is before from.", code="invalid_parameter", details={"param": "to"})
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
    metrics = services.ensure_metrics()
    data = []
    month, months = start, 0
    while month <= end:
        months += 1
        if months > MAX_MONTHS:
            raise DomainError(
                "Ask for at most 24 months at a time.", code="invalid_parameter", details={"param": "from"}
            )
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
    db.session.commit()  # ensure_metrics may have created the defaults
    return data
