"""The one place subscriptions and metering call the billing module (its rules, never a copy).

Billing owns invoices: this module only drafts an invoice for a subscription, adds lines and
finalizes it through billing's services. With no billing module present nothing is invoiced.
"""

from __future__ import annotations

import importlib
import logging

from webapp.extensions import db

log = logging.getLogger(__name__)


def billing_services():
    for name in ("webapp.billing.services", "webapp.billing.services.invoices"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "create_draft_invoice"):
            return module
    return None


def invoice_model():
    try:
        from webapp.billing.models import Invoice
    except ImportError:
        return None
    return Invoice


def invoice_subscription(sub, lines, *, period_start, period_end, actor=None):
    """Draft, fill and finalize one invoice for ``sub``; ``lines`` are (description, quantity, unit_price)."""
    services = billing_services()
    if services is None:
        log.warning("billing module missing: subscription %s not invoiced", sub.id)
        return None
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
        services.add_line_item(invoice, description, quantity, unit_price, subscription_id=sub.id, actor=actor)
    services.finalize_invoice(invoice, actor)
    sub.last_invoice_id = invoice.id
    return invoice


def invoice_open(invoice_id: int) -> bool:
    model = invoice_model()
    if model is None:
        return False
    invoice = db.session.get(model, invoice_id)
    return invoice is not None and invoice.is_open


def subscription_of_invoice(invoice_id) -> int | None:
    model = invoice_model()
    if model is None or invoice_id is None:
        return None
    invoice = db.session.get(model, invoice_id)
    return invoice.subscription_id if invoice is not None else None
