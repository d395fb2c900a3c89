"""The business view's subscription figures (MRR, active subscriptions by plan, trials, churn), read
with GROUP BY / CASE sums so the console's front page costs the same at any number of organizations."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from webapp.admin.figures import Figures, month_ends, month_start_of
from webapp.extensions import db


def subscription_figures(fig: Figures, now: datetime) -> None:
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
    discounts = discount_figures(fig.currency, points, live_at, monthly)
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


def discount_figures(currency: str, points, live_at, monthly) -> list[int]:
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
