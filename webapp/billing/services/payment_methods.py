"""Saved payment methods (seed 004 ``PaymentMethod``): cards saved through a Stripe SetupIntent, shown
by brand, last four and expiry; one default per account (what automatic collection charges); removal
detaches the card at Stripe; a daily job warns before a card expires.

Card numbers never reach Tessera: the payer types them on Stripe's page, Tessera keeps Stripe's id.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from webapp.audit import record
from webapp.billing.models import BillingAccount
from webapp.billing.payment_models import METHOD_ACTIVE, METHOD_REMOVED, PaymentMethod
from webapp.core.errors import DomainError
from webapp.core.events import emit
from webapp.core.models import get_existing, utcnow
from webapp.extensions import db
from webapp.settings import define, get

define(
    "billing.card_expiry_notice_days",
    int,
    30,
    "Days before a saved card expires to warn the organization",
    minimum=1,
    maximum=120,
)


def payment_methods_of(account: BillingAccount) -> list[PaymentMethod]:
    return list(
        db.session.scalars(
            select(PaymentMethod)
            .where(PaymentMethod.account_id == account.id, PaymentMethod.status == METHOD_ACTIVE)
            .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id.desc())
        )
    )


def default_method(account_id: int) -> PaymentMethod | None:
    return db.session.scalar(
        select(PaymentMethod).where(
            PaymentMethod.account_id == account_id,
            PaymentMethod.status == METHOD_ACTIVE,
            PaymentMethod.is_default.is_(True),
        )
    )


def save_card(account: BillingAccount, details: dict, actor=None) -> PaymentMethod:
    """Keep what Stripe tells us about a saved card (idempotent per Stripe id). The first card of an
    account becomes its default."""
    method_id = details.get("id") or ""
    card = details.get("card") or {}
    existing = db.session.scalar(select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == method_id))
    if existing is not None:
        if existing.account_id != account.id:
            raise DomainError("That card belongs to another account.")
        return existing
    method = PaymentMethod(
        organization_id=account.organization_id,
        account_id=account.id,
        provider="stripe",
        stripe_payment_method_id=method_id,
        type=details.get("type") or "card",
        card_brand=card.get("brand"),
        card_last4=card.get("last4"),
        card_exp_month=card.get("exp_month"),
        card_exp_year=card.get("exp_year"),
        is_default=default_method(account.id) is None,
        created_by_id=getattr(actor, "id", None),
    )
    try:
        with db.session.begin_nested():
            db.session.add(method)
    except IntegrityError:  # the webhook and the return page saved it at the same moment
        theirs = db.session.scalar(select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == method_id))
        if theirs is None:
            raise  # not the same card saved twice: another constraint, which stays an error
        return theirs
    record(
        actor,
        "payment_method.added",
        method,
        {"card": method.label, "expiry": method.expiry},
        org=account.organization_id,
    )
    return method


def set_default_method(account: BillingAccount, method: PaymentMethod, actor) -> PaymentMethod:
    from webapp.billing.providers import provider_for

    if method.account_id != account.id or method.status != METHOD_ACTIVE:
        raise DomainError("That card is no longer saved.")
    if method.is_default:
        return method
    db.session.execute(
        update(PaymentMethod)
        .where(PaymentMethod.account_id == account.id, PaymentMethod.id != method.id)
        .values(is_default=False)
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    method.is_default = True
    db.session.flush()
    provider_for(method.provider).set_default(account, method)
    record(actor, "payment_method.default_set", method, {"card": method.label}, org=account.organization_id)
    return method


def remove_method(account: BillingAccount, method: PaymentMethod, actor) -> PaymentMethod:
    """Detach the card at Stripe and stop using it. No other card becomes the default by itself: the
    customer chooses which card is charged."""
    from webapp.billing.providers import provider_for

    if method.account_id != account.id or method.status != METHOD_ACTIVE:
        raise DomainError("That card is no longer saved.")
    provider_for(method.provider).detach(method)
    _mark_removed(method)
    record(actor, "payment_method.removed", method, {"card": method.label}, org=account.organization_id)
    return method


def _mark_removed(method: PaymentMethod) -> None:
    method.status, method.is_default, method.removed_at = METHOD_REMOVED, False, utcnow()


def method_removed_at_provider(stripe_id: str) -> bool:
    """``payment_method.detached``: the card was removed at Stripe (by us or elsewhere)."""
    method = db.session.scalar(select(PaymentMethod).where(PaymentMethod.stripe_payment_method_id == stripe_id))
    if method is None or method.status != METHOD_ACTIVE:
        return False
    _mark_removed(method)
    record(None, "payment_method.detached", method, {"card": method.label}, org=method.organization_id)
    return True


def expiring_methods(now: datetime | None = None) -> list[PaymentMethod]:
    """Saved cards whose last valid day falls within the notice window and that were not warned yet."""
    now = now or utcnow()
    horizon = (now + timedelta(days=int(get("billing.card_expiry_notice_days")))).date()
    months = {(now.year, now.month)}
    cursor = now.date().replace(day=1)
    while cursor <= horizon:
        months.add((cursor.year, cursor.month))
        cursor = (cursor + timedelta(days=32)).replace(day=1)
    candidates = db.session.scalars(
        select(PaymentMethod).where(
            PaymentMethod.status == METHOD_ACTIVE,
            PaymentMethod.expiry_notice_sent_at.is_(None),
            PaymentMethod.card_exp_year.in_({year for year, _ in months}),
        )
    )
    return [
        m
        for m in candidates
        if (m.card_exp_year, m.card_exp_month) in months and m.expires_on is not None and m.expires_on >= now.date()
    ]


def send_expiry_notices(now: datetime | None = None) -> int:
    """E-mail the organization and tell its owners and billing members in the app, once per card."""
    from flask import url_for
    from flask_babel import LazyString, lazy_gettext

    from webapp.billing.jobs import _due_date
    from webapp.mail import send_email

    now = now or utcnow()
    sent = 0
    for method in expiring_methods(now):
        account = get_existing(BillingAccount, method.account_id)
        org = account.organization
        link = url_for("billing.payment_methods", slug=org.slug, _external=True)
        expires_on = LazyString(_due_date, method.expires_on)  # a date in the recipient's language
        subject = f"{org.name}: your {method.label} expires on {method.expires_on:%d %b %Y}"
        send_email(
            org.email,
            "billing/card_expiring",
            subject=lazy_gettext(
                "%(org)s: your %(card)s expires on %(date)s", org=org.name, card=method.label, date=expires_on
            ),
            org=org,
            about=method,
            org_name=org.name,
            method=method,
            expires_on=expires_on,
            link=link,
        )
        # The notifications domain tells the owners and billing members in the app (its subscriber).
        emit(
            "payment_method.expiring",
            org=org,
            payment_method_id=method.id,
            title=subject,
            body="Add a new card so invoices keep being paid automatically.",
            link=link,
        )
        method.expiry_notice_sent_at = now
        record(None, "payment_method.expiry_notice", method, {"card": method.label}, org=org.id)
        sent += 1
    return sent
