"""Referrals react to sign-ups (the link's cookie) and to a referred organization's first payment."""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import func, select

from webapp.core.access import OWNER
from webapp.core.events import Event, subscribe
from webapp.core.models import get_existing
from webapp.core.parsing import int_or_none
from webapp.extensions import db
from webapp.referrals import services

COOKIE = "tessera_ref"


def cookie_value(code: str, click_id: int) -> str:
    return f"{code}:{click_id}"


def parse_cookie(value: str | None) -> tuple[str | None, int | None]:
    code, _, click = (value or "").partition(":")
    return (code or None), int_or_none(click)


@subscribe("user.signed_up")
def referral_signup(event: Event) -> None:
    if not has_request_context():
        return
    code, click_id = parse_cookie(request.cookies.get(COOKIE))
    if code:
        from webapp.auth.models import User

        services.attach_signup(get_existing(User, event.data["user_id"]), code, click_id)


@subscribe("invoice.paid")
def referral_first_payment(event: Event) -> None:
    from webapp.billing.models import Invoice
    from webapp.orgs.models import Membership

    invoice = db.session.get(Invoice, event.data["invoice_id"])
    if invoice is None:
        return
    paid_before = db.session.scalar(
        select(func.count())
        .select_from(Invoice)
        .where(
            Invoice.organization_id == invoice.organization_id, Invoice.paid_at.is_not(None), Invoice.id != invoice.id
        )
    )
    if paid_before:
        return  # only the first paid invoice confirms
    owners = db.session.scalars(
        select(Membership.user_id).where(
            Membership.organization_id == invoice.organization_id, Membership.role == OWNER
        )
    ).all()
    for user_id in owners:
        if services.confirm_referral(user_id, invoice.id, invoice.total):
            break
