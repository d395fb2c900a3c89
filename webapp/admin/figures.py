"""The business view's figures: a handful of aggregate queries, no per-organization loops.

The queries live with the tables they read (``webapp.subscriptions.figures``, ``webapp.billing.figures``),
which add them to ``FIGURE_SOURCES`` at start. Each reads with GROUP BY / CASE sums, so the page costs
the same at 10 or 10,000 organizations (see ``bench/support.py`` and docs/support.md). Money is
integer cents, grouped by currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from webapp.admin import FIGURE_SOURCES
from webapp.core.charts import LINE, MONEY, Chart, series
from webapp.core.models import utcnow


def month_ends(now: datetime, count: int = 12) -> list[datetime]:
    """The start of the month after each of the last ``count`` months (the current one capped at now)."""
    points = []
    year, month = now.year, now.month
    for _ in range(count):
        nxt = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        points.append(min(nxt, now))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(points))


def month_start_of(end: datetime) -> datetime:
    """The first instant of the month that ``end`` closes (``end`` is exclusive)."""
    last = end - timedelta(microseconds=1)
    return datetime(last.year, last.month, 1, tzinfo=UTC)


@dataclass
class Figures:
    currency: str = "USD"
    mrr: int = 0
    mrr_30_days_ago: int = 0
    mrr_discounts: int = 0  # taken off ``mrr`` by running coupons
    active_by_plan: list[tuple[str, str, int]] = field(default_factory=list)
    active_total: int = 0
    trials_ending: int = 0
    open_receivables: int = 0
    overdue_total: int = 0
    overdue_invoices: int = 0
    suspended_accounts: int = 0
    collected_by_method: list[tuple[str, int, int]] = field(default_factory=list)
    collected_total: int = 0
    churned_30_days: int = 0
    months: list[str] = field(default_factory=list)
    mrr_series: list[int] = field(default_factory=list)
    collected_series: list[int] = field(default_factory=list)
    churn_series: list[int] = field(default_factory=list)

    @property
    def mrr_change(self) -> int:
        return self.mrr - self.mrr_30_days_ago

    @property
    def mrr_change_pct(self) -> float | None:
        return None if not self.mrr_30_days_ago else round(100.0 * self.mrr_change / self.mrr_30_days_ago, 1)


def business_figures(now: datetime | None = None, currency: str = "USD") -> Figures:
    """``currency`` is the books' currency (``webapp.billing.queries.BOOKS_CURRENCY``)."""
    now = now or utcnow()
    fig = Figures(currency=currency)
    for fill in FIGURE_SOURCES:  # subscriptions' and billing's, each reading its own tables
        fill(fig, now)
    return fig


def business_charts(fig: Figures) -> list[Chart]:
    """The business view's three 12-month charts as the chart component, from the same series as the
    figures above them."""
    return [
        Chart(
            id="chart-mrr",
            title="MRR, last 12 months",
            points=series(zip(fig.months, fig.mrr_series, strict=True)),
            unit=MONEY,
            currency=fig.currency,
            kind=LINE,
            label_heading="Month",
            value_heading="MRR",
            compact=True,
        ),
        Chart(
            id="chart-collected",
            title="Payments collected per month",
            points=series(zip(fig.months, fig.collected_series, strict=True)),
            unit=MONEY,
            currency=fig.currency,
            label_heading="Month",
            value_heading="Collected",
            compact=True,
        ),
        Chart(
            id="chart-churn",
            title="Churned subscriptions per month",
            points=series(zip(fig.months, fig.churn_series, strict=True)),
            noun="subscriptions",
            label_heading="Month",
            value_heading="Churned",
            compact=True,
        ),
    ]
