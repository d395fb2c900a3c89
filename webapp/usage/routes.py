"""/o/<slug>/usage: per-metric charts over time, this month's records, recent raw events with filters."""

from __future__ import annotations

from datetime import timedelta

from flask import request
from sqlalchemy import select

from webapp.core.access import org_view
from webapp.core.htmx import render
from webapp.core.models import utcnow
from webapp.core.pagination import keyset
from webapp.core.parsing import int_arg
from webapp.usage import bp, services
from webapp.usage.charts import daily_chart, daily_series_for, event_types
from webapp.usage.models import UsageEvent

RANGES = (7, 30, 90)


@bp.get("")
@org_view("api")
def index(org):
    days = int_arg("days", 30)
    days = days if days in RANGES else 30
    event_type = (request.args.get("event_type") or "").strip()
    event_id = (request.args.get("event_id") or "").strip()
    metrics = services.known_metrics()
    types = event_types(org.id)
    start = (utcnow() - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    shown = [services.metric_for(code, metrics) for code in types if not event_type or code == event_type]
    series = daily_series_for(org.id, shown, start)
    charts = [daily_chart(metric, series[metric.code], start.date(), days) for metric in shown]
    stmt = select(UsageEvent).where(UsageEvent.organization_id == org.id)
    if event_type:
        stmt = stmt.where(UsageEvent.event_type == event_type)
    if event_id:
        stmt = stmt.where(UsageEvent.event_id.startswith(event_id, autoescape=True))
    events = keyset(stmt, UsageEvent.id, int_arg("before"), per_page=50)
    return render(
        "usage/index.html",
        block="usage_events",
        org=org,
        charts=charts,
        records=services.records_for(org.id, months=3),
        events=events,
        types=types,
        metrics=metrics,
        filters={"days": days, "event_type": event_type, "event_id": event_id},
        ranges=RANGES,
    )
