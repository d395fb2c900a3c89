"""Subscription rules: start, trial, change plan with proration, cancel, resume, renew, expire.

Services flush but never commit. Invoices go through the billing module (``billing_bridge``), so
numbering, immutability and dunning stay billing's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from webapp.audit import record
from webapp.core.errors import Conflict, DomainError, IllegalTransition
from webapp.core.events import emit
from webapp.core.models import utcnow
from webapp.core.money import prorate
from webapp.extensions import db
from webapp.settings import get as setting
from webapp.subscriptions import billing_bridge
from webapp.subscriptions.catalog import ENTERPRISE, FREE, catalog, catalog_plan, plan_by_code
from webapp.subscriptions.models import (
    ACTIVE,
    CANCELED,
    INCOMPLETE,
    INCOMPLETE_EXPIRED,
    INTERVALS,
    LIMITS,
    MONTHLY,
    PAST_DUE,
    TRIALING,
    YEARLY,
    Plan,
    Subscription,
)
from webapp.subscriptions.periods import period_end, whole_days

ENDED_STATUSES = (CANCELED, INCOMPLETE_EXPIRED)


# ---------------------------------------------------------------- reading


def current_subscription(org, *, lock: bool = False) -> Subscription:
    """The organization's current subscription; an organization without one is put on FREE."""
    stmt = select(Subscription).where(Subscription.organization_id == org.id, Subscription.ended_at.is_(None))
    if lock:
        stmt = stmt.with_for_update(of=Subscription)
    sub = db.session.scalar(stmt)
    if sub is None:
        sub = _new_subscription(org, catalog_plan(FREE), MONTHLY, utcnow())
    return sub


def history(org) -> list[Subscription]:
    stmt = (
        select(Subscription)
        .where(Subscription.organization_id == org.id, Subscription.ended_at.is_not(None))
        .order_by(Subscription.id.desc())
    )
    return list(db.session.scalars(stmt))


def price_for(sub: Subscription, plan: Plan, interval: str) -> int:
    """What ``sub``'s organization pays per interval on ``plan`` (ENTERPRISE: the staff-set price)."""
    if plan.is_custom_priced:
        custom = sub.custom_yearly_price if interval == YEARLY else sub.custom_monthly_price
        return custom if custom is not None else plan.price(interval)
    return plan.price(interval)


def plan_limit(org, name: str) -> int | None:
    """The organization's allowance for ``name`` (users, storage_mb, ai_credits, api_calls); None = unlimited."""
    if name not in LIMITS:
        raise ValueError(f"unknown limit {name!r}")
    sub = current_subscription(org)
    return sub.limit(name)


# ---------------------------------------------------------------- creating


def _new_subscription(org, plan: Plan, interval: str, start: datetime, **extra) -> Subscription:
    sub = Subscription(
        organization_id=org.id if hasattr(org, "id") else org,
        plan_id=plan.id,
        plan=plan,
        status=extra.pop("status", ACTIVE),
        billing_interval=interval,
        amount=plan.price(interval),
        currency=plan.currency,
        current_period_start=start,
        current_period_end=period_end(start, interval),
        **extra,
    )
    db.session.add(sub)
    db.session.flush()
    return sub


def subscribe_new_organization(org, owner) -> Subscription:
    """Every organization starts on FREE, or on a trial when ``subscriptions.new_org_trial_days`` says so."""
    days = setting("subscriptions.new_org_trial_days")
    now = utcnow()
    if days > 0 and not org.is_personal:
        plan = plan_by_code(setting("subscriptions.trial_plan")) or catalog_plan(FREE)
        trial_end = now + timedelta(days=days)
        sub = _new_subscription(org, plan, MONTHLY, now, status=TRIALING, trial_start=now, trial_end=trial_end)
        sub.current_period_end = trial_end
    else:
        sub = _new_subscription(org, catalog_plan(FREE), MONTHLY, now)
    record(owner, "subscription.created", sub, {"plan": sub.plan.code, "status": sub.status}, org=org)
    db.session.flush()
    emit("subscription.created", org=org, actor=owner, subscription_id=sub.id)
    return sub


def _end(sub: Subscription, status: str, actor, now: datetime, reason: str) -> Subscription:
    """Close ``sub`` with ``status`` and put the organization on FREE from ``now``."""
    sub.status = status
    sub.ended_at = now
    db.session.flush()
    free = _new_subscription(sub.organization_id, catalog_plan(FREE), MONTHLY, now)
    record(actor, f"subscription.{reason}", sub, {"plan": sub.plan.code, "status": status}, org=sub.organization_id)
    emit(
        "subscription.changed",
        org=sub.organization_id,
        actor=actor,
        subscription_id=free.id,
        ended_subscription_id=sub.id,
        reason=reason,
    )
    return free


# ---------------------------------------------------------------- trial


def start_trial(org, plan: Plan, actor) -> Subscription:
    days = setting("subscriptions.trial_days")
    sub = current_subscription(org, lock=True)
    if days <= 0:
        raise DomainError("Trials are not offered at the moment.", code="trial_unavailable")
    if plan.is_free or plan.is_custom_priced:
        raise DomainError("Choose a paid plan to try.", field="plan", code="trial_plan_invalid")
    if not sub.plan.is_free or sub.status != ACTIVE:
        raise Conflict("A trial can start only from the Free plan.", code="trial_not_from_free")
    tried = db.session.scalar(
        select(Subscription.id).where(Subscription.organization_id == org.id, Subscription.trial_start.is_not(None))
    )
    if tried:
        raise Conflict("This organization has already had its trial.", code="trial_used")
    now = utcnow()
    sub.status, sub.ended_at = CANCELED, now  # the free period ends where the trial starts
    db.session.flush()
    trial = _new_subscription(org, plan, MONTHLY, now, status=TRIALING, trial_start=now)
    trial.trial_end = trial.current_period_end = now + timedelta(days=days)
    record(actor, "subscription.trial_started", trial, {"plan": plan.code, "days": days}, org=org)
    emit("subscription.created", org=org, actor=actor, subscription_id=trial.id, reason="trial_started")
    emit("subscription.changed", org=org, actor=actor, subscription_id=trial.id, reason="trial_started")
    return trial


def pay_to_keep_trial_plan(sub: Subscription, actor, interval: str = MONTHLY):
    """The first invoice of a trial: paying it (invoice.paid) makes the subscription ACTIVE."""
    if sub.status != TRIALING:
        raise IllegalTransition("Only a trial waits for its first invoice.")
    _check_interval(interval)
    if sub.last_invoice_id and billing_bridge.invoice_open(sub.last_invoice_id):
        raise Conflict("The first invoice is already issued; pay it from Billing.", code="invoice_already_open")
    sub.billing_interval = interval
    sub.amount = price_for(sub, sub.plan, interval)
    start = max(sub.trial_end or utcnow(), utcnow())
    invoice = billing_bridge.invoice_subscription(
        sub,
        [(f"{sub.plan.name} plan, first {interval.lower()[:-2]} period", 1, sub.amount)],
        period_start=start,
        period_end=period_end(start, interval),
        actor=actor,
    )
    record(actor, "subscription.first_invoice", sub, {"invoice_id": getattr(invoice, "id", None)})
    return invoice


def expire_trials(now: datetime | None = None) -> int:
    """Trials whose end passed without a paid first invoice become INCOMPLETE_EXPIRED (org back on FREE)."""
    now = now or utcnow()
    stmt = select(Subscription).where(
        Subscription.status == TRIALING, Subscription.ended_at.is_(None), Subscription.trial_end <= now
    )
    expired = 0
    for sub in db.session.scalars(_skip_locked(stmt)).all():
        _end(sub, INCOMPLETE_EXPIRED, None, now, "trial_expired")
        expired += 1
    return expired


# ---------------------------------------------------------------- change plan


@dataclass
class ChangePreview:
    plan: Plan
    interval: str
    kind: str  # "upgrade" (now) or "scheduled" (at period end)
    effective_at: datetime
    new_amount: int
    currency: str
    days_left: int = 0
    period_days: int = 0
    credit: int = 0  # unused time of the current plan
    charge: int = 0  # remaining time on the new plan
    new_period: bool = False
    lines: list = field(default_factory=list)
    discount: int = 0  # taken off ``gross`` by the subscription's coupon (its own invoice line)
    discount_label: str = ""
    renewal_discount: int = 0  # a scheduled change: taken off ``new_amount`` at ``effective_at``

    @property
    def gross(self) -> int:
        return max(0, self.charge - self.credit)

    @property
    def total(self) -> int:
        return self.gross - self.discount

    @property
    def immediate(self) -> bool:
        return self.kind == "upgrade"


def _check_interval(interval: str) -> None:
    if interval not in INTERVALS:
        raise DomainError("Choose monthly or yearly.", field="interval")


def preview_change(sub: Subscription, plan: Plan, interval: str, now: datetime | None = None) -> ChangePreview:
    """What changing to ``plan``/``interval`` costs and when it takes effect, before anything changes."""
    now = now or utcnow()
    _check_interval(interval)
    if plan.is_custom_priced and sub.plan.code != ENTERPRISE:
        raise DomainError("Enterprise is priced for each organization. Contact us to set it up.", field="plan")
    if sub.status in ENDED_STATUSES or sub.ended_at is not None:
        raise IllegalTransition("This subscription has ended.")
    if plan.id == sub.plan_id and interval == sub.billing_interval:
        raise DomainError(f"You are already on {plan.name}, billed {interval.lower()}.", field="plan")
    new_amount = price_for(sub, plan, interval)
    preview = ChangePreview(plan, interval, "scheduled", sub.current_period_end, new_amount, plan.currency)
    if sub.status == TRIALING:
        if plan.is_free:
            raise DomainError("During a trial choose another paid plan, or let the trial end.", field="plan")
        preview.kind, preview.effective_at = "upgrade", now  # still a trial: no charge
        return preview
    current_free = sub.amount == 0
    if new_amount > 0 and current_free:
        # From a free plan there is nothing to credit: a paid period starts today.
        preview.kind, preview.effective_at, preview.new_period = "upgrade", now, True
        preview.charge = new_amount
        preview.lines = [(f"{plan.name} plan, {interval.lower()} from today", 1, new_amount)]
    elif interval == sub.billing_interval and new_amount > sub.amount:
        preview.kind, preview.effective_at = "upgrade", now
        preview.days_left = whole_days(now, sub.current_period_end)
        preview.period_days = whole_days(sub.current_period_start, sub.current_period_end)
        preview.credit = prorate(sub.amount, preview.days_left, preview.period_days)
        preview.charge = prorate(new_amount, preview.days_left, preview.period_days)
        preview.lines = [
            (
                f"Upgrade {sub.plan.name} → {plan.name}: {preview.days_left} of {preview.period_days} days",
                1,
                preview.gross,
            )
        ]
    _preview_discount(sub, preview, now)
    if preview.immediate and sub.status == PAST_DUE:
        # Refused at the preview, so the page never offers a Confirm that would then be refused.
        raise Conflict(
            "Pay the overdue invoice before upgrading: nothing changes while this subscription is past due.",
            code="subscription_past_due",
        )
    return preview


def _preview_discount(sub: Subscription, preview: ChangePreview, now: datetime) -> None:
    """The coupon as the invoice will apply it (the same rule, ``coupons.discount_for``)."""
    from webapp.subscriptions import coupons

    if preview.immediate:
        applied = coupons.discount_for(sub, preview.gross, now, plan=preview.plan)
        if applied is not None:
            preview.discount, preview.discount_label = applied.amount, applied.description
    else:
        applied = coupons.discount_for(sub, preview.new_amount, preview.effective_at, plan=preview.plan)
        if applied is not None:
            preview.renewal_discount, preview.discount_label = applied.amount, applied.description


def change_plan(sub: Subscription, plan: Plan, interval: str, actor) -> ChangePreview:
    """Upgrade now (prorated invoice through billing) or schedule the change for the period end."""
    preview = preview_change(sub, plan, interval)
    old = {"plan": sub.plan.code, "interval": sub.billing_interval, "amount": sub.amount}
    if preview.immediate:  # preview_change refused an upgrade of a past-due subscription
        now = preview.effective_at
        sub.plan_id, sub.plan = plan.id, plan
        sub.billing_interval, sub.amount, sub.currency = interval, preview.new_amount, plan.currency
        sub.pending_plan_id, sub.pending_plan, sub.pending_interval = None, None, None
        if preview.new_period:
            sub.current_period_start, sub.current_period_end = now, period_end(now, interval)
        if preview.gross > 0:  # a 100% discount still invoices (and uses up a once coupon)
            billing_bridge.invoice_subscription(
                sub,
                preview.lines,
                period_start=now,
                period_end=sub.current_period_end,
                actor=actor,
                upgrade_to=None if preview.new_period else plan.code,
            )
        action = "subscription.upgraded"
    else:
        sub.pending_plan_id, sub.pending_plan, sub.pending_interval = plan.id, plan, interval
        action = "subscription.change_scheduled"
    db.session.flush()
    record(
        actor,
        action,
        sub,
        {
            "from": old,
            "to": {"plan": plan.code, "interval": interval, "amount": preview.new_amount},
            "charged": preview.total,
            "discount": preview.discount,
            "effective_at": preview.effective_at.isoformat(),
        },
    )
    emit("subscription.changed", org=sub.organization_id, actor=actor, subscription_id=sub.id, reason=action)
    return preview


def cancel_scheduled_change(sub: Subscription, actor) -> None:
    if sub.pending_plan_id is None and sub.pending_interval is None:
        raise DomainError("No change is scheduled.")
    sub.pending_plan_id, sub.pending_plan, sub.pending_interval = None, None, None
    record(actor, "subscription.change_unscheduled", sub)


def cancel_at_period_end(sub: Subscription, actor) -> None:
    if sub.plan.is_free:
        raise DomainError("The Free plan has nothing to cancel.")
    if sub.cancel_at_period_end:
        raise IllegalTransition("The subscription is already set to end.")
    if sub.status not in (ACTIVE, PAST_DUE, TRIALING, INCOMPLETE):
        raise IllegalTransition("This subscription cannot be cancelled.")
    sub.cancel_at_period_end, sub.canceled_at = True, utcnow()
    record(actor, "subscription.cancel_requested", sub, {"ends_at": sub.current_period_end.isoformat()})


def resume(sub: Subscription, actor) -> None:
    if not sub.cancel_at_period_end or sub.ended_at is not None:
        raise IllegalTransition("Only a subscription set to end can be resumed.")
    sub.cancel_at_period_end, sub.canceled_at = False, None
    record(actor, "subscription.resumed", sub)


# ---------------------------------------------------------------- renewal


def _skip_locked(stmt):
    if db.engine.dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True, of=Subscription)
    return stmt


def renew(sub: Subscription, now: datetime | None = None) -> Subscription:
    """Roll ``sub`` over every period end that has passed: end it, apply a scheduled change, invoice."""
    now = now or utcnow()
    while sub.ended_at is None and sub.status != TRIALING and sub.current_period_end <= now:
        boundary = sub.current_period_end
        if sub.cancel_at_period_end:
            return _end(sub, CANCELED, None, boundary, "canceled")
        if sub.pending_plan_id or sub.pending_interval:
            plan = sub.pending_plan or db.session.get(Plan, sub.pending_plan_id) or sub.plan
            interval = sub.pending_interval or sub.billing_interval
            record(None, "subscription.change_applied", sub, {"from": sub.plan.code, "to": plan.code})
            sub.plan_id, sub.plan, sub.billing_interval = plan.id, plan, interval
            sub.pending_plan_id, sub.pending_plan, sub.pending_interval = None, None, None
        sub.amount = price_for(sub, sub.plan, sub.billing_interval)
        sub.currency = sub.plan.currency
        sub.current_period_start = boundary
        sub.current_period_end = period_end(boundary, sub.billing_interval)
        if sub.amount > 0:
            billing_bridge.invoice_subscription(
                sub,
                [(f"{sub.plan.name} plan, {sub.billing_interval.lower()}", 1, sub.amount)],
                period_start=sub.current_period_start,
                period_end=sub.current_period_end,
                actor=None,
            )
        db.session.flush()
        record(None, "subscription.renewed", sub, {"period_start": boundary.isoformat(), "amount": sub.amount})
        emit("subscription.renewed", org=sub.organization_id, subscription_id=sub.id)
    return sub


def renew_due(now: datetime | None = None) -> int:
    """Renew what is due; a suspended organization's subscriptions wait (their period restarts on
    reactivation, ``orgs/suspension.py``)."""
    from webapp.orgs.suspension import suspended_ids

    now = now or utcnow()
    stmt = select(Subscription).where(
        Subscription.ended_at.is_(None),
        Subscription.status != TRIALING,
        Subscription.current_period_end <= now,
        Subscription.organization_id.not_in(suspended_ids()),
    )
    subs = db.session.scalars(_skip_locked(stmt)).all()
    for sub in subs:
        renew(sub, now)
    return len(subs)


def restart_after_suspension(org) -> dict:
    """Reactivation of an organization suspended by staff (``orgs/suspension.py``): a subscription whose
    period ended meanwhile starts its next period now, so the paused time is not billed; the renewal job
    invoices that one period."""
    now = utcnow()
    waiting = db.session.scalars(
        select(Subscription).where(
            Subscription.organization_id == org.id,
            Subscription.ended_at.is_(None),
            Subscription.status != TRIALING,  # a trial's end is the trial job's, not a renewal
            Subscription.current_period_end < now,
        )
    ).all()
    for sub in waiting:
        record(None, "subscription.paused_time_skipped", sub, {"period_end_was": sub.current_period_end.isoformat()})
        sub.current_period_end = now
    return {"subscriptions": len(waiting)}


# ---------------------------------------------------------------- reactions to billing


def subscription_paid(subscription_id: int) -> None:
    sub = db.session.get(Subscription, subscription_id)
    if sub is None or sub.ended_at is not None:
        return
    if sub.status == TRIALING:
        now = utcnow()
        sub.status = ACTIVE
        sub.trial_end = min(sub.trial_end or now, now)
        sub.current_period_start, sub.current_period_end = now, period_end(now, sub.billing_interval)
        record(None, "subscription.activated", sub, {"from": TRIALING})
    elif sub.status in (PAST_DUE, INCOMPLETE):
        record(None, "subscription.activated", sub, {"from": sub.status})
        sub.status = ACTIVE
    else:
        return
    emit("subscription.changed", org=sub.organization_id, subscription_id=sub.id, reason="paid")


def subscription_overdue(subscription_id: int) -> None:
    sub = db.session.get(Subscription, subscription_id)
    if sub is None or sub.ended_at is not None or sub.status not in (ACTIVE, INCOMPLETE):
        return
    sub.status = PAST_DUE
    record(None, "subscription.past_due", sub)
    emit("subscription.changed", org=sub.organization_id, subscription_id=sub.id, reason="past_due")


def subscription_collection_failed(subscription_id: int, invoice_id: int | None) -> None:
    """The automatic charge of a subscription invoice failed (seed 004's states, as in Stripe): the
    subscription's first paid invoice unpaid -> INCOMPLETE; a renewal unpaid -> PAST_DUE."""
    sub = db.session.get(Subscription, subscription_id)
    if sub is None or sub.ended_at is not None or sub.status != ACTIVE:
        return
    invoice_model = billing_bridge.invoice_model()
    paid_before = db.session.scalar(
        select(invoice_model.id)
        .where(
            invoice_model.subscription_id == sub.id,
            invoice_model.status.in_(("PAID", "REFUNDED")),
            invoice_model.id != invoice_id,
        )
        .limit(1)
    )
    sub.status = PAST_DUE if paid_before else INCOMPLETE
    record(None, f"subscription.{sub.status.lower()}", sub, {"invoice_id": invoice_id})
    emit("subscription.changed", org=sub.organization_id, subscription_id=sub.id, reason=sub.status.lower())


# ---------------------------------------------------------------- staff


PLAN_FIELDS = (
    "name",
    "description",
    "monthly_price",
    "yearly_price",
    "max_users",
    "max_storage_mb",
    "max_ai_credits",
    "max_api_calls",
    "metered_prices",
)


def update_plan(plan: Plan, actor, **values) -> Plan:
    changes = {}
    for key in PLAN_FIELDS:
        if key in values and getattr(plan, key) != values[key]:
            changes[key] = {"from": getattr(plan, key), "to": values[key]}
            setattr(plan, key, values[key])
    _validate_metered(plan.metered_prices)
    record(actor, "plan.updated", plan, {"code": plan.code, "changes": changes})
    return plan


def _validate_metered(prices) -> None:
    if not isinstance(prices, dict):
        raise DomainError("Metered prices must be an object keyed by metric.", field="metered_prices")
    for metric, spec in prices.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("unit_price"), int) or spec["unit_price"] < 0:
            raise DomainError(f"{metric}: give unit_price in cents (a whole number).", field="metered_prices")
        for key in ("per", "included"):
            if key in spec and (not isinstance(spec[key], int) or spec[key] < (1 if key == "per" else 0)):
                raise DomainError(f"{metric}: {key} must be a whole number.", field="metered_prices")


def set_enterprise_terms(
    org, actor, monthly_price: int, yearly_price: int, interval: str, limits: dict
) -> Subscription:
    """Staff put an organization on ENTERPRISE with its own price and limits (None = unlimited).

    The plan and limits apply at once; the new price is invoiced from the next renewal."""
    _check_interval(interval)
    sub = current_subscription(org, lock=True)
    plan = catalog_plan(ENTERPRISE)
    if sub.status == TRIALING:
        sub.status, sub.trial_end = ACTIVE, utcnow()
    sub.custom_monthly_price, sub.custom_yearly_price = monthly_price, yearly_price
    sub.custom_limits = {k: v for k, v in limits.items() if k in LIMITS}
    sub.plan_id, sub.plan, sub.billing_interval = plan.id, plan, interval
    sub.amount = price_for(sub, plan, interval)
    sub.pending_plan_id, sub.pending_plan, sub.pending_interval = None, None, None
    record(
        actor,
        "subscription.enterprise_terms",
        sub,
        {"monthly": monthly_price, "yearly": yearly_price, "limits": sub.custom_limits},
        org=org,
    )
    return sub


__all__ = ["catalog", "current_subscription", "plan_limit"]
