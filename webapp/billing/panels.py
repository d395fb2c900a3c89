"""The billing card on the organization dashboard."""

from __future__ import annotations

from sqlalchemy import select

from webapp.billing.models import OPEN_STATUSES, Invoice
from webapp.billing.queries import figures
from webapp.billing.services import billing_account_for
from webapp.extensions import db
from webapp.orgs.dashboard import panel


@panel("billing/_panel.html", "billing")
def billing_panel(org) -> dict:
    account = billing_account_for(org)
    next_due = db.session.scalar(
        select(Invoice)
        .where(Invoice.account_id == account.id, Invoice.status.in_(OPEN_STATUSES))
        .order_by(Invoice.due_at)
        .limit(1)
    )
    # The same figure as the billing page's "Open amount" (one query for both).
    return {"account": account, "open_amount": figures(org.id, currency=account.currency)["open"], "next_due": next_due}
