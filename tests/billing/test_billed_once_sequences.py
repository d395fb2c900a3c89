"""Issue 20, generatively: random sequences of service activation, suspension, cancellation,
subscription renewals and plan changes with proration, billing runs, staff drafts, voids and credit
notes over six months. Each day of each billable thing is billed at most once by a live line, and,
once every month has been run, exactly once for each service not left suspended."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.billing.helpers import org_with_owner
from webapp.billing import services as billing
from webapp.billing.models import BilledPeriod, Invoice, InvoiceLineItem
from webapp.billing.services.credit_notes import credited_by_line
from webapp.core.errors import DomainError
from webapp.extensions import db

MONTHS = [(2026, m) for m in range(6, 12)]  # June to November 2026
services_n = st.integers(0, 2)
month = st.integers(0, len(MONTHS) - 1)
day = st.integers(1, 28)

OPS = st.one_of(
    st.tuples(st.just("activate"), month, day),
    st.tuples(st.just("suspend"), services_n),
    st.tuples(st.just("resume"), services_n),
    st.tuples(st.just("cancel"), services_n, month, day),
    st.tuples(st.just("run"), month),
    st.tuples(st.just("staff"), services_n, month),
    st.tuples(st.just("renew"), month),
    st.tuples(st.just("upgrade"), month, day, st.sampled_from(["TEAM_STANDARD", "TEAM_PREMIUM"])),
    st.tuples(st.just("void"), st.integers(0, 5)),
    st.tuples(st.just("credit"), st.integers(0, 5), st.booleans()),
)


def _month(n):
    year, m = MONTHS[n]
    return date(year, m, 1), date(year, m, calendar.monthrange(year, m)[1])


def _at(d):
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _apply(op, org, sub, services):
    kind = op[0]
    if kind == "activate":
        if len(services) < 3:
            start = _month(op[1])[0].replace(day=op[2])
            services.append(
                billing.create_service(
                    org, None, type="POS_TERMINAL", name=f"T{len(services)}", monthly_fee=3_000, activated_at=_at(start)
                )
            )
        return
    if kind in ("suspend", "resume", "cancel"):
        if op[1] >= len(services):
            return
        service = services[op[1]]
        rule = {
            "suspend": billing.suspend_service,
            "resume": billing.activate_service,
            "cancel": billing.cancel_service,
        }
        rule[kind](service, None)
        if kind == "cancel":
            service.cancelled_at = max(service.activated_at, _at(_month(op[2])[0].replace(day=op[3])))
        return
    if kind == "run":
        billing.run_billing(f"{MONTHS[op[1]][0]}-{MONTHS[op[1]][1]:02d}", send_emails=False)
        return
    if kind == "staff":
        if op[1] >= len(services):
            return
        start, end = _month(op[2])
        invoice = billing.create_draft_invoice(billing.billing_account_for(org), period_start=start, period_end=end)
        billing.add_line_item(invoice, "staff line", 1, 3_000, service=services[op[1]])
        billing.finalize_invoice(invoice, None, send_email=False)
        return
    from webapp.subscriptions import billing_bridge

    if kind == "renew":
        start, end = _month(op[1])
        billing_bridge.invoice_subscription(
            sub, [("Plan, monthly", 1, 4_900)], period_start=_at(start), period_end=_at(end + timedelta(days=1))
        )
        return
    if kind == "upgrade":
        start, end = _month(op[1])
        billing_bridge.invoice_subscription(
            sub,
            [("Upgrade, prorated", 1, 1_000)],
            period_start=_at(start.replace(day=op[2])),
            period_end=_at(end + timedelta(days=1)),
            upgrade_to=op[3],
        )
        return
    invoices = db.session.scalars(select(Invoice).where(Invoice.organization_id == org.id).order_by(Invoice.id)).all()
    if not invoices:
        return
    invoice = invoices[op[1] % len(invoices)]
    if kind == "void":
        billing.void_invoice(invoice, None, "sequence")
        return
    if invoice.status in ("ISSUED", "PARTIAL") and invoice.amount_due > 0:
        billing.record_manual_payment(
            invoice, None, invoice.amount_due, "CASH", f"R-{invoice.id}-{invoice.amount_paid}"
        )
    line = max(invoice.lines, key=lambda line: line.total)
    left = line.total - credited_by_line(invoice.id).get(line.id, 0)
    amount = left if op[2] else max(1, left // 3)
    billing.issue_credit_note(invoice, None, "sequence", lines={line.id: amount})


def _live_days():
    """{key: {day: count}} over live lines (invoice not void, line not fully credited), and a check that
    every claimed line's period is live exactly when its line is."""
    days: dict[str, dict[date, int]] = {}
    rows = db.session.execute(
        select(BilledPeriod, InvoiceLineItem, Invoice)
        .join(InvoiceLineItem, InvoiceLineItem.id == BilledPeriod.line_id)
        .join(Invoice, Invoice.id == BilledPeriod.invoice_id)
    ).all()
    credited: dict[int, dict[int, int]] = {}
    for period, line, invoice in rows:
        done = credited.setdefault(invoice.id, credited_by_line(invoice.id))
        live_line = invoice.status != "VOID" and not (line.total > 0 and done.get(line.id, 0) >= line.total)
        assert live_line == (period.released_at is None), (period.billable_key, invoice.status, line.total)
        if not live_line:
            continue
        counter = days.setdefault(period.billable_key, {})
        d = period.start_date
        while d <= period.end_date:
            counter[d] = counter.get(d, 0) + 1
            d += timedelta(days=1)
    unclaimed = db.session.scalars(
        select(InvoiceLineItem)
        .join(Invoice)
        .where(InvoiceLineItem.service_id.is_not(None), InvoiceLineItem.total >= 0)
        .where(~InvoiceLineItem.id.in_(select(BilledPeriod.line_id)))
    ).all()
    assert unclaimed == []
    return days


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(OPS, min_size=1, max_size=14))
def test_each_day_of_each_billable_thing_is_billed_at_most_once_and_active_ones_exactly_once(ctx, ops):
    from webapp.subscriptions.services import current_subscription

    org, _ = org_with_owner()
    sub = current_subscription(org)
    services = [
        billing.create_service(
            org, None, type="POS_MAINTENANCE", name="Care", monthly_fee=1_500, activated_at=_at(date(2026, 1, 1))
        )
    ]
    try:
        for op in ops:
            try:
                with db.session.begin_nested():
                    _apply(op, org, sub, services)
            except DomainError:
                pass  # a refusal (already billed, illegal transition, nothing to credit) changes nothing
            for counter in _live_days().values():
                assert max(counter.values(), default=0) <= 1
        for n in range(len(MONTHS)):
            _apply(("run", n), org, sub, services)
        days = _live_days()
        for counter in days.values():
            assert max(counter.values(), default=0) <= 1
        first, last = _month(0)[0], _month(len(MONTHS) - 1)[1]
        for service in services:
            if service.status == "SUSPENDED":
                continue
            start = max(first, service.activated_at.date())
            end = last if service.cancelled_at is None else min(last, service.cancelled_at.date() - timedelta(days=1))
            billed = days.get(billing.service_key(service.id), {})
            d = start
            while d <= end:
                assert billed.get(d) == 1, (service.name, d, ops)
                d += timedelta(days=1)
            # Days outside the active stretch may be billed once: a staff line bills its draft's whole
            # period, and a cancellation dated back does not take back what was billed before it.
    finally:
        db.session.rollback()
