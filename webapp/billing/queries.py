"""Read-side helpers shared by the customer and staff pages: invoice filters and business figures."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Select, func, select

from webapp.billing.models import INVOICE_STATUSES, OPEN_STATUSES, OVERDUE, PAY_PAID, Invoice, Payment
from webapp.billing.services import parse_period
from webapp.core.errors import DomainError
from webapp.core.models import utcnow
from webapp.core.parsing import int_or_none
from webapp.extensions import db


def filtered_invoices(args, *, org_id: int | None = None) -> tuple[Select, dict]:
    """Invoices matching ?status=&period=YYYY-MM&overdue=1&org=<id>; returns the statement and the filters used."""
    stmt = select(Invoice)
    used: dict = {}
    if org_id is not None:
        stmt = stmt.where(Invoice.organization_id == org_id)
    elif int_or_none(args.get("org")) is not None:
        used["org"] = int_or_none(args["org"])
        stmt = stmt.where(Invoice.organization_id == used["org"])
    status = (args.get("status") or "").upper()
    if status in INVOICE_STATUSES:
        used["status"] = status
        stmt = stmt.where(Invoice.status == status)
    period = (args.get("period") or "").strip()
    if period:
        try:
            start, end = parse_period(period)
        except DomainError:
            pass
        else:
            used["period"] = period
            stmt = stmt.where(Invoice.period_start <= end, Invoice.period_end >= start)
    if args.get("overdue") in ("1", "true", "on"):
        used["overdue"] = "1"
        stmt = stmt.where(Invoice.status == OVERDUE)
    return stmt.order_by(Invoice.id.desc()), used


def figures(org_id: int | None = None) -> dict:
    """Open receivables, overdue total and collected this month (cents, USD-denominated books)."""

    def scoped(stmt, model):
        return stmt.where(model.organization_id == org_id) if org_id is not None else stmt

    open_total = db.session.scalar(
        scoped(select(func.coalesce(func.sum(Invoice.amount_due), 0)).where(Invoice.status.in_(OPEN_STATUSES)), Invoice)
    )
    overdue_total = db.session.scalar(
        scoped(select(func.coalesce(func.sum(Invoice.amount_due), 0)).where(Invoice.status == OVERDUE), Invoice)
    )
    now = utcnow()
    month_start = datetime(now.year, now.month, 1, tzinfo=UTC)
    collected = db.session.scalar(
        scoped(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(
                Payment.status == PAY_PAID, Payment.completed_at >= month_start, Payment.method != "CREDIT"
            ),
            Payment,
        )
    )
    return {"open": int(open_total or 0), "overdue": int(overdue_total or 0), "collected": int(collected or 0)}
