"""What was billed, recorded where it is decided (issue 20): every line that bills a period of a
billable thing claims it here, and a period is billed at most once whatever made the invoice.

Billable keys: ``service:<id>``, ``subscription:<id>``, ``subscription:<id>:upgrade:<plan>`` (a
proration) and ``usage:<organization id>:<metric>``. Periods are dates, both ends included.

``claim`` checks for a live overlapping period first (the clear refusal names the invoice that
billed it), then inserts inside a savepoint; on PostgreSQL the exclusion constraint
``ex_billing_billed_periods_live_overlap`` catches the race the check cannot see, and the loser gets
the same refusal, never a 500. SQLite (tests without PostgreSQL) has the check only.

A period comes back (``released_at``) when its invoice is voided or its line fully credited.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from webapp.audit import record
from webapp.billing.models import BilledPeriod, Invoice, InvoiceLineItem
from webapp.core.errors import Conflict
from webapp.core.models import rowcount, utcnow
from webapp.extensions import db

EXCLUSION = "ex_billing_billed_periods_live_overlap"


class AlreadyBilled(Conflict):
    """The period (or part of it) of this billable thing is on a live line of ``invoice``."""

    code = "already_billed"

    def __init__(self, key: str, start: date, end: date, period: BilledPeriod):
        invoice = period.invoice or db.session.get(Invoice, period.invoice_id)
        self.key, self.start, self.end = key, start, end
        self.invoice_id = period.invoice_id
        self.invoice_number = invoice.display_number if invoice is not None else f"#{period.invoice_id}"
        super().__init__(
            f"{describe_key(key)} is already billed for {period.start_date:%d %b %Y} to {period.end_date:%d %b %Y} "
            f"by invoice {self.invoice_number}.",
            field="service",
            details={"invoice": self.invoice_number, "key": key},
        )


def service_key(service_id: int) -> str:
    return f"service:{int(service_id)}"


def subscription_key(subscription_id: int) -> str:
    return f"subscription:{int(subscription_id)}"


def upgrade_key(subscription_id: int, plan: str) -> str:
    return f"subscription:{int(subscription_id)}:upgrade:{plan}"


def usage_key(organization_id: int, metric: str) -> str:
    return f"usage:{int(organization_id)}:{metric}"


def describe_key(key: str) -> str:
    kind, _, rest = key.partition(":")
    if kind == "service":
        return f"Service #{rest}"
    if kind == "subscription":
        sub, _, upgrade = rest.partition(":upgrade:")
        return f"Subscription #{sub}" + (f" (upgrade to {upgrade})" if upgrade else "")
    if kind == "usage":
        _org, _, metric = rest.partition(":")
        return f"Usage of {metric}"
    return key


def key_for_line(invoice: Invoice, *, service_id=None, subscription_id=None, metric=None) -> str | None:
    """The billable thing a line bills when its maker did not say: a service; a subscription's metered
    usage (metric and subscription); a subscription's fee. A metric without a subscription (a
    workflow's one-off line) and a free-text line bill no period."""
    if service_id is not None:
        return service_key(service_id)
    if metric and subscription_id is not None:
        return usage_key(invoice.organization_id, metric)
    if subscription_id is not None and not metric:
        return subscription_key(subscription_id)
    return None


def live_periods(keys, start: date, end: date) -> list[BilledPeriod]:
    """Live periods of ``keys`` overlapping ``start``..``end`` (oldest first)."""
    keys = list(keys)
    if not keys:
        return []
    return list(
        db.session.scalars(
            select(BilledPeriod)
            .where(
                BilledPeriod.billable_key.in_(keys),
                BilledPeriod.released_at.is_(None),
                BilledPeriod.start_date <= end,
                BilledPeriod.end_date >= start,
            )
            .order_by(BilledPeriod.start_date, BilledPeriod.id)
        )
    )


def billed_by(key: str, start: date, end: date) -> BilledPeriod | None:
    found = live_periods([key], start, end)
    return found[0] if found else None


def billed_through(key: str) -> date | None:
    """The last day of ``key`` a live line bills (Kill Bill's "charged through"), None if none does."""
    return db.session.scalar(
        select(func.max(BilledPeriod.end_date)).where(
            BilledPeriod.billable_key == key, BilledPeriod.released_at.is_(None)
        )
    )


def uncovered(start: date, end: date, periods) -> list[tuple[date, date]]:
    """The parts of ``start``..``end`` no period in ``periods`` covers, in order."""
    gaps, cursor = [], start
    for period in sorted(periods, key=lambda p: p.start_date):
        if period.end_date < cursor or period.start_date > end:
            continue
        if period.start_date > cursor:
            gaps.append((cursor, period.start_date - timedelta(days=1)))
        cursor = max(cursor, period.end_date + timedelta(days=1))
        if cursor > end:
            break
    if cursor <= end:
        gaps.append((cursor, end))
    return gaps


def check_free(key: str, start: date, end: date) -> None:
    if end < start:
        from webapp.core.errors import DomainError

        raise DomainError("The billed period ends before it starts.", field="period")
    winner = billed_by(key, start, end)
    if winner is not None:
        raise AlreadyBilled(key, start, end, winner)


def insert_claimed_line(invoice: Invoice, line: InvoiceLineItem, key: str, start: date, end: date) -> BilledPeriod:
    """Insert ``line`` and its period together in a savepoint; a lost race raises AlreadyBilled."""
    check_free(key, start, end)
    period = BilledPeriod(
        organization_id=invoice.organization_id,
        invoice_id=invoice.id,
        account_id=invoice.account_id,
        billable_key=key,
        start_date=start,
        end_date=end,
    )
    try:
        with db.session.begin_nested():
            db.session.add(line)
            db.session.flush()
            period.line_id = line.id
            db.session.add(period)
            db.session.flush()
    except IntegrityError as error:
        if EXCLUSION not in str(error.orig):
            raise
        for obj in (line, period):
            if obj in db.session:
                db.session.expunge(obj)
        winner = billed_by(key, start, end)
        if winner is None:  # the winner rolled back meanwhile: a plain lost race
            raise
        raise AlreadyBilled(key, start, end, winner) from None
    return period


def _release(stmt_where, reason: str) -> int:
    result = db.session.execute(
        update(BilledPeriod)
        .where(*stmt_where, BilledPeriod.released_at.is_(None))
        .values(released_at=utcnow(), release_reason=reason[:200], updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return rowcount(result)


def release_invoice_periods(invoice: Invoice, actor=None, reason: str = "invoice voided") -> int:
    """Every period the invoice billed becomes billable again (void)."""
    released = _release([BilledPeriod.invoice_id == invoice.id], reason)
    if released:
        record(actor, "invoice.periods_released", invoice, {"periods": released, "reason": reason})
    return released


def release_billed_period(line: InvoiceLineItem, actor=None, reason: str = "line fully credited") -> int:
    """The line's period becomes billable again (a credit note covered the whole line)."""
    released = _release([BilledPeriod.line_id == line.id], reason)
    if released:
        invoice = line.invoice or db.session.get(Invoice, line.invoice_id)
        record(actor, "invoice.periods_released", invoice, {"line_id": line.id, "reason": reason})
    return released


def periods_of_invoice(invoice_id: int) -> list[BilledPeriod]:
    return list(
        db.session.scalars(select(BilledPeriod).where(BilledPeriod.invoice_id == invoice_id).order_by(BilledPeriod.id))
    )
