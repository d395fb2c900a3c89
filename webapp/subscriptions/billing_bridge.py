"""The one place subscriptions and metering call the billing module (its rules, never a copy).

Billing owns invoices: this module only drafts an invoice for a subscription, adds lines and
finalizes it through billing's services.
"""

from __future__ import annotations

import logging

from webapp.extensions import db

log = logging.getLogger(__name__)


def billing_services():
    """Billing's rules, imported when first needed (billing imports subscriptions' models)."""
    from webapp.billing import services

    return services


def invoice_model():
    from webapp.billing.models import Invoice

    return Invoice


def billed_days(period_start, period_end):
    """A subscription period [start, end) as the dates it bills, both included (``end``'s day is the
    next period's first)."""
    from datetime import datetime, timedelta

    first = period_start.date() if isinstance(period_start, datetime) else period_start
    last = period_end.date() if isinstance(period_end, datetime) else period_end
    return first, max(first, last - timedelta(days=1))


def invoice_subscription(sub, lines, *, period_start, period_end, actor=None, upgrade_to: str | None = None):
    """Draft, fill and finalize one invoice for ``sub``; ``lines`` are (description, quantity, unit_price).

    The lines bill the subscription's days ``period_start``..``period_end`` (``subscription:<id>``,
    or ``subscription:<id>:upgrade:<plan>`` for a proration). When those days are already billed by a
    live invoice nothing is invoiced: the skip is audited with that invoice's number and None returned."""
    from webapp.audit import record

    services = billing_services()
    key = services.upgrade_key(sub.id, upgrade_to) if upgrade_to else services.subscription_key(sub.id)
    first, last = billed_days(period_start, period_end)
    try:
        with db.session.begin_nested():
            services.check_free(key, first, last)
            account = services.billing_account_for(sub.organization_id)
            invoice = services.create_draft_invoice(
                account,
                period_start=period_start,
                period_end=period_end,
                currency=sub.currency,
                subscription_id=sub.id,
                actor=actor,
            )
            for description, quantity, unit_price in lines:
                services.add_line_item(
                    invoice,
                    description,
                    quantity,
                    unit_price,
                    subscription_id=sub.id,
                    billable=key,
                    period=(first, last),
                    actor=actor,
                )
            _add_discount_line(services, invoice, sub, lines, period_start, key, (first, last), actor)
            services.finalize_invoice(invoice, actor)
    except services.AlreadyBilled as error:
        record(
            actor,
            "subscription.invoice_skipped",
            sub,
            {"reason": "already billed", "invoice": error.invoice_number, "period": f"{first}..{last}", "key": key},
            org=sub.organization_id,
        )
        log.info("subscription %s: %s already billed by %s", sub.id, key, error.invoice_number)
        return None
    sub.last_invoice_id = invoice.id
    return invoice


def _add_discount_line(services, invoice, sub, lines, period_start, key, period, actor) -> None:
    """The subscription's discount as its own negative line (a negative line claims no period, so
    billed-once is untouched); it never takes more than the lines charge."""
    from webapp.subscriptions import coupons

    charged = sum(quantity * unit_price for _description, quantity, unit_price in lines)
    applied = coupons.discount_for(sub, charged, period_start)
    if applied is None:
        return
    services.add_line_item(
        invoice,
        applied.description,
        1,
        -applied.amount,
        subscription_id=sub.id,
        billable=key,
        period=period,
        actor=actor,
    )
    coupons.used_on_invoice(applied)


def invoice_open(invoice_id: int) -> bool:
    invoice = db.session.get(invoice_model(), invoice_id)
    return invoice is not None and invoice.is_open


def subscription_of_invoice(invoice_id) -> int | None:
    if invoice_id is None:
        return None
    invoice = db.session.get(invoice_model(), invoice_id)
    return invoice.subscription_id if invoice is not None else None
