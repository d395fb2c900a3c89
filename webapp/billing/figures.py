"""The business view's billing figures: receivables, overdue, suspended accounts, collections."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from webapp.admin.figures import Figures, month_ends, month_start_of
from webapp.extensions import db


def billing_figures(fig: Figures, now: datetime) -> None:
    # The same query as the console's invoice and payment pages and the customer's billing page.
    from webapp.billing.models import BillingAccount
    from webapp.billing.queries import collected_series, figures

    money = figures(currency=fig.currency, now=now)
    fig.open_receivables, fig.overdue_total = money["open"], money["overdue"]
    fig.overdue_invoices = money["overdue_count"]
    fig.collected_by_method, fig.collected_total = money["collected_by_method"], money["collected"]
    fig.suspended_accounts = (
        db.session.scalar(select(func.count(BillingAccount.id)).where(BillingAccount.status == "SUSPENDED")) or 0
    )
    ends = month_ends(now)
    fig.collected_series = collected_series([month_start_of(e) for e in ends], ends, fig.currency)
