"""The business view's figures: a handful of aggregate queries, no per-organization loops.

Each function reads the billing and subscriptions tables with GROUP BY / CASE sums, so the page costs
the same at 10 or 10,000 organizations (see ``bench/support.py`` and docs/support.md). Money is
integer cents, grouped by currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from webapp.core.charts import LINE, MONEY, Chart, series
from webapp.core.models import utcnow
from webapp.extensions import db


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


def _subscription_figures(fig: Figures, now: datetime) -> None:
    from webapp.subscriptions.models import Plan, Subscription

    s = Subscription
    monthly = case((s.billing_interval == "YEARLY", s.amount / 12), else_=s.amount)
    billable = s.status.not_in(("INCOMPLETE", "INCOMPLETE_EXPIRED"))

    def live_at(t):
        return and_(
            billable,
            s.created_at <= t,
            or_(s.ended_at.is_(None), s.ended_at > t),
            or_(s.trial_end.is_(None), s.trial_end <= t),
        )

    points = [*month_ends(now), now - timedelta(days=30)]
    month_starts = [month_start_of(p) for p in points[:-1]]
    columns = [func.coalesce(func.sum(case((live_at(t), monthly), else_=0)), 0) for t in points]
    columns += [
        func.coalesce(func.sum(case((and_(s.ended_at >= start, s.ended_at < end), 1), else_=0)), 0)
        for start, end in zip(month_starts, points[:-1], strict=True)
    ]
    columns.append(func.coalesce(func.sum(case((s.ended_at >= now - timedelta(days=30), 1), else_=0)), 0))
    row = db.session.execute(select(*columns).where(s.currency == fig.currency)).one()
    values = [int(v or 0) for v in row]
    discounts = _discount_figures(fig.currency, points, live_at, monthly)
    fig.mrr_series = [gross - off for gross, off in zip(values[:12], discounts[:12], strict=True)]
    fig.mrr, fig.mrr_30_days_ago = fig.mrr_series[11], values[12] - discounts[12]
    fig.mrr_discounts = discounts[11]
    fig.churn_series = values[13:25]
    fig.churned_30_days = values[25]
    fig.months = [p.strftime("%b") for p in month_starts]

    from webapp.orgs.models import Organization

    # A personal workspace on the free plan is a sign-up, not a subscription the business counts.
    rows = db.session.execute(
        select(Plan.code, Plan.name, func.count(s.id))
        .join(Plan, Plan.id == s.plan_id)
        .join(Organization, Organization.id == s.organization_id)
        .where(s.status.in_(("ACTIVE", "PAST_DUE")), s.ended_at.is_(None))
        .where(~and_(Organization.is_personal.is_(True), Plan.monthly_price == 0))
        .group_by(Plan.code, Plan.name, Plan.sort_order)
        .order_by(Plan.sort_order, Plan.code)
    ).all()
    fig.active_by_plan = [(code, name, int(n)) for code, name, n in rows]
    fig.active_total = sum(n for _, _, n in fig.active_by_plan)
    fig.trials_ending = (
        db.session.scalar(
            select(func.count(s.id)).where(
                s.status == "TRIALING", s.trial_end >= now, s.trial_end < now + timedelta(days=7)
            )
        )
        or 0
    )


def _discount_figures(currency: str, points, live_at, monthly) -> list[int]:
    """What coupons take off the monthly figure at each point: repeating and forever discounts while
    they run, on plans they apply to (once discounts are one-off, as Stripe leaves them out of MRR).
    Rounded as the invoice rounds (percent half up; a fixed amount capped at the price)."""
    from webapp.subscriptions.coupon_models import ONCE, Coupon, SubscriptionDiscount, coupon_plans
    from webapp.subscriptions.models import Subscription

    s, d, c = Subscription, SubscriptionDiscount, Coupon
    restricted = select(coupon_plans.c.coupon_id).where(coupon_plans.c.coupon_id == c.id).exists()
    on_plan = (
        select(coupon_plans.c.coupon_id)
        .where(coupon_plans.c.coupon_id == c.id, coupon_plans.c.plan_id == s.plan_id)
        .exists()
    )
    fixed = case((c.amount_off < s.amount, c.amount_off), else_=s.amount)
    off = case(
        (c.percent_off_bps.is_not(None), (monthly * c.percent_off_bps * 2 + 10000) // 20000),
        else_=case((s.billing_interval == "YEARLY", fixed / 12), else_=fixed),
    )

    def running_at(t):
        return and_(
            live_at(t),
            d.start <= t,
            or_(d.end.is_(None), d.end > t),
            or_(d.ended_at.is_(None), d.ended_at > t),
            or_(c.amount_off.is_(None), c.currency == s.currency),
        )

    columns = [func.coalesce(func.sum(case((running_at(t), off), else_=0)), 0) for t in points]
    row = db.session.execute(
        select(*columns)
        .select_from(d)
        .join(s, s.id == d.subscription_id)
        .join(c, c.id == d.coupon_id)
        .where(s.currency == currency, c.duration != ONCE, or_(~restricted, on_plan))
    ).one()
    return [int(v or 0) for v in row]


def _billing_figures(fig: Figures, now: datetime) -> None:
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


def business_figures(now: datetime | None = None, currency: str = "USD") -> Figures:
    """``currency`` is the books' currency (``webapp.billing.queries.BOOKS_CURRENCY``)."""
    now = now or utcnow()
    fig = Figures(currency=currency)
    _subscription_figures(fig, now)
    _billing_figures(fig, now)
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
