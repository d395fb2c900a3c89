"""Read-side helpers shared by the customer and staff pages: invoice filters and business figures."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Select, and_, case, func, or_, select

from webapp.billing.models import (
    INVOICE_STATUSES,
    ISSUED,
    OPEN_STATUSES,
    OVERDUE,
    PARTIAL,
    PAY_PAID,
    Invoice,
    Payment,
)
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
        stmt = stmt.where(overdue_clause(utcnow()))
    return stmt.order_by(Invoice.id.desc()), used


# The console's figures are in the books' currency (the business view's, too).
BOOKS_CURRENCY = "USD"


def overdue_clause(now):
    """An invoice is overdue once the dunning job marked it, or while open past its due date (the job
    runs hourly): the business view, the console's lists and the customer's billing page agree."""
    return or_(Invoice.status == OVERDUE, and_(Invoice.status.in_((ISSUED, PARTIAL)), Invoice.due_at < now))


def collected_clause(currency: str | None = None):
    """Money collected: paid payments, not account credit moved onto an invoice (that is no cash in)."""
    clause = and_(Payment.status == PAY_PAID, Payment.method != "CREDIT")
    return and_(clause, Payment.currency == currency) if currency else clause


def month_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def figures(org_id: int | None = None, *, currency: str | None = None, now: datetime | None = None) -> dict:
    """Open receivables, overdue total and collected this month (cents) — the one query behind every
    page that shows these figures (business view, console invoices and payments, organization billing,
    the customer's billing page and dashboard card)."""
    now = now or utcnow()

    def scoped(stmt, model):
        if org_id is not None:
            stmt = stmt.where(model.organization_id == org_id)
        if currency and model is Invoice:
            stmt = stmt.where(Invoice.currency == currency)
        return stmt

    overdue = overdue_clause(now)
    row = db.session.execute(
        scoped(
            select(
                func.coalesce(func.sum(Invoice.amount_due), 0),
                func.coalesce(func.sum(case((overdue, Invoice.amount_due), else_=0)), 0),
                func.coalesce(func.sum(case((overdue, 1), else_=0)), 0),
            ).where(Invoice.status.in_(OPEN_STATUSES)),
            Invoice,
        )
    ).one()
    by_method = db.session.execute(
        scoped(
            select(Payment.method, func.count(Payment.id), func.coalesce(func.sum(Payment.amount), 0))
            .where(collected_clause(currency), Payment.completed_at >= month_start(now))
            .group_by(Payment.method)
            .order_by(func.sum(Payment.amount).desc()),
            Payment,
        )
    ).all()
    collected_by_method = [(method, int(n), int(total)) for method, n, total in by_method]
    return {
        "open": int(row[0] or 0),
        "overdue": int(row[1] or 0),
        "overdue_count": int(row[2] or 0),
        "collected": sum(total for _, _, total in collected_by_method),
        "collected_by_method": collected_by_method,
    }


def collected_series(starts: list[datetime], ends: list[datetime], currency: str | None = None) -> list[int]:
    """Collected per month (same rule as ``figures``), one aggregate query."""
    p = Payment
    row = db.session.execute(
        select(
            *[
                func.coalesce(func.sum(case((and_(p.completed_at >= a, p.completed_at < b), p.amount), else_=0)), 0)
                for a, b in zip(starts, ends, strict=True)
            ]
        ).where(collected_clause(currency), p.completed_at >= starts[0])
    ).one()
    return [int(v) for v in row]
