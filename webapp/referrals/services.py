"""Referral rules: programs, link clicks, sign-ups, confirmation on first payment, payouts.

Balances move only through these functions, by conditional UPDATEs, so they never go negative
even when two requests race: available → pending on request, pending → paid out on completion,
pending → available again on failure.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, select, update

from webapp.audit import record
from webapp.auth.models import User
from webapp.core.charts import Chart, Point
from webapp.core.errors import DomainError, IllegalTransition
from webapp.core.models import get_existing, rowcount, utcnow
from webapp.core.parsing import int_or_none
from webapp.core.terms import N_
from webapp.extensions import db
from webapp.mail import send_email
from webapp.referrals.models import Referral, ReferralClick, ReferralPayout, ReferralProgram
from webapp.settings import define, get

define(
    "referrals.reward_type",
    str,
    "fixed",
    "Reward per confirmed referral: fixed or percent",
    choices=("fixed", "percent"),
)
define("referrals.reward_fixed_cents", int, 2000, "Fixed reward per confirmed referral, in cents", minimum=0)
define(
    "referrals.reward_percent_bps",
    int,
    1000,
    "Percentage reward of the first paid invoice, in basis points",
    minimum=0,
    maximum=10000,
)
define("referrals.cookie_days", int, 30, "Days a referral link's cookie is kept through sign-up", minimum=1)
define("referrals.tracking_retention_days", int, 30, "Days click IP addresses and user agents are kept", minimum=0)
define("referrals.payout_minimum_cents", int, 5000, "Smallest payout that can be requested, in cents", minimum=1)
define(
    "referrals.invitation_days",
    int,
    60,
    "Days an e-mailed invitation waits for a sign-up before it expires and frees the address",
    minimum=1,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")
METHOD_FIELDS = {
    "STRIPE": ("account_email",),
    "PAYPAL": ("account_email",),
    "BANK_TRANSFER": ("account_name", "bank_name", "account_number"),
    "STORE_CREDIT": ("organization_id",),
}
TRANSITIONS = {
    ReferralPayout.PENDING: {ReferralPayout.APPROVED, ReferralPayout.FAILED, ReferralPayout.CANCELED},
    ReferralPayout.APPROVED: {ReferralPayout.PROCESSING, ReferralPayout.COMPLETED, ReferralPayout.FAILED},
    ReferralPayout.PROCESSING: {ReferralPayout.COMPLETED, ReferralPayout.FAILED},
}


def program_of(user: User) -> ReferralProgram | None:
    return db.session.scalar(select(ReferralProgram).where(ReferralProgram.user_id == user.id))


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        if not db.session.scalar(select(ReferralProgram.id).where(ReferralProgram.code == code)):
            return code


def open_program(user: User, message: str = "") -> ReferralProgram:
    program = program_of(user)
    if program is not None:
        return program
    program = ReferralProgram(user_id=user.id, code=_new_code(), custom_message=(message or "").strip()[:500] or None)
    db.session.add(program)
    record(user, "referral.program_opened", program)
    return program


def set_custom_slug(program: ReferralProgram, actor: User, slug: str) -> None:
    if program.custom_slug:
        raise DomainError(N_("The custom link can be chosen only once."), field="slug")
    slug = (slug or "").strip().lower()
    if not SLUG.match(slug):
        raise DomainError(N_("Use 3 to 40 lowercase letters, digits and dashes."), field="slug")
    taken = db.session.scalar(
        select(ReferralProgram.id).where(
            (ReferralProgram.custom_slug == slug) | (func.lower(ReferralProgram.code) == slug)
        )
    )
    if taken:
        raise DomainError(N_("That link is taken. Choose another."), field="slug")
    program.custom_slug = slug
    record(actor, "referral.custom_link_set", program, {"slug": slug})


def update_message(program: ReferralProgram, actor: User, message: str) -> None:
    program.custom_message = (message or "").strip()[:500] or None
    record(actor, "referral.message_updated", program)


def find_program(code: str) -> ReferralProgram | None:
    code = (code or "").strip()
    return db.session.scalar(
        select(ReferralProgram).where(
            ReferralProgram.is_active.is_(True),
            (ReferralProgram.code == code.upper()) | (ReferralProgram.custom_slug == code.lower()),
        )
    )


def record_click(
    program: ReferralProgram, *, source: str | None, campaign: str | None, ip: str | None, user_agent: str | None
) -> ReferralClick:
    click = ReferralClick(
        program_id=program.id,
        source=(source or "")[:100] or None,
        campaign=(campaign or "")[:100] or None,
        ip_address=ip,
        user_agent=(user_agent or "")[:500] or None,
    )
    db.session.add(click)
    db.session.flush()
    return click


def _existing_referral(email: str) -> Referral | None:
    """The live referral of an address (an expired invitation no longer holds it)."""
    return db.session.scalar(
        select(Referral).where(Referral.referee_email == email.strip().lower(), Referral.status != Referral.EXPIRED)
    )


def expire_invitations(now=None) -> list[int]:
    """Invitations still PENDING after ``referrals.invitation_days`` become EXPIRED (one UPDATE, so
    running it twice changes nothing the second time); the address can then be referred again."""
    now = now or utcnow()
    cutoff = now - timedelta(days=get("referrals.invitation_days"))
    expired = db.session.scalars(
        update(Referral)
        .where(Referral.status == Referral.PENDING, Referral.created_at < cutoff)
        .values(status=Referral.EXPIRED, expired_at=now)
        .returning(Referral.id)
    ).all()
    return list(expired)


def invite_by_email(program: ReferralProgram, actor: User, email: str) -> Referral:
    """The referrer names someone; they get the link by e-mail and the referral waits as PENDING."""
    email = email.strip().lower()
    if email == actor.email.lower():
        raise DomainError(N_("You cannot refer yourself."), field="email", code="self_referral")
    if _existing_referral(email) is not None:
        raise DomainError(N_("That address has already been referred."), field="email", code="duplicate_referral")
    if db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise DomainError(N_("That person already has an account."), field="email", code="already_customer")
    referral = Referral(program_id=program.id, referee_email=email, status=Referral.PENDING)
    db.session.add(referral)
    record(actor, "referral.invited", referral, {"email": email})
    from flask import current_app, url_for

    link = current_app.config["BASE_URL"] + url_for("referrals_public.follow", code=program.public_code)
    send_email(
        email,
        "referrals/invitation",
        about=referral,
        subject=lazy_gettext("%(name)s invites you to Tessera", name=actor.display_name),
        user=None,
        inviter=actor.display_name,
        message=program.custom_message,
        link=link,
    )
    return referral


def attach_signup(user: User, code: str | None, click_id: int | None = None) -> Referral | None:
    """Called at sign-up with the referral cookie. Self and duplicate referrals are refused (None)."""
    program = find_program(code) if code else None
    if program is None or program.user_id == user.id:
        return None
    referrer = db.session.get(User, program.user_id)
    if referrer is None or referrer.email.lower() == user.email.lower():
        return None
    click = db.session.get(ReferralClick, click_id) if click_id else None
    referral = _existing_referral(user.email)
    if referral is not None and (referral.program_id != program.id or referral.status != Referral.PENDING):
        return None  # another program referred this address first, or it is already signed up
    if referral is None:
        referral = Referral(program_id=program.id, referee_email=user.email.lower())
        db.session.add(referral)
    if click is not None and click.program_id == program.id:
        referral.click_id = click.id
        referral.source, referral.campaign = click.source, click.campaign
    referral.referee_user_id = user.id
    referral.status = Referral.SIGNED_UP
    referral.signup_at = utcnow()
    record(user, "referral.signed_up", referral, {"program_id": program.id})
    return referral


def reward_for(invoice_total: int) -> int:
    if get("referrals.reward_type") == "percent":
        return invoice_total * get("referrals.reward_percent_bps") // 10000
    return get("referrals.reward_fixed_cents")


def confirm_referral(referee_user_id: int, invoice_id: int, invoice_total: int) -> Referral | None:
    """The referred customer's first paid invoice confirms the referral and earns the reward once."""
    referral = db.session.scalar(
        select(Referral)
        .where(Referral.referee_user_id == referee_user_id, Referral.status == Referral.SIGNED_UP)
        .with_for_update()
    )
    if referral is None:
        return None
    reward = reward_for(invoice_total)
    referral.status = Referral.CONFIRMED
    referral.confirmed_at = utcnow()
    referral.confirming_invoice_id = invoice_id
    referral.reward_amount = reward
    db.session.execute(
        update(ReferralProgram)
        .where(ReferralProgram.id == referral.program_id)
        .values(
            total_earnings=ReferralProgram.total_earnings + reward,
            available_balance=ReferralProgram.available_balance + reward,
        )
    )
    record(None, "referral.confirmed", referral, {"invoice_id": invoice_id, "reward": reward})
    program = get_existing(ReferralProgram, referral.program_id)
    db.session.refresh(program)
    send_email(
        program.user.email,
        "referrals/confirmed",
        about=referral,
        subject=lazy_gettext("You earned a referral reward"),
        user=program.user,
        reward=reward,
        currency=program.currency,
        referee=referral.referee_email,
    )
    return referral


# Payouts --------------------------------------------------------------------------------------


def _clean_details(method: str, details: dict, user: User) -> dict:
    if method not in METHOD_FIELDS:
        raise DomainError(N_("Choose a payout method."), field="method")
    cleaned: dict[str, Any] = {}
    for name in METHOD_FIELDS[method]:
        value = str(details.get(name) or "").strip()
        if not value:
            raise DomainError(f"{name.replace('_', ' ').capitalize()} is needed for this method.", field=name)
        cleaned[name] = value[:200]
    if method in ("STRIPE", "PAYPAL"):
        cleaned["account_email"] = _account_email(cleaned["account_email"], method)
    if method == "STORE_CREDIT":
        from webapp.core.access import load_membership, role_allows
        from webapp.orgs.models import Organization

        org_id = int_or_none(cleaned["organization_id"])
        org = db.session.get(Organization, org_id) if org_id is not None else None
        membership = load_membership(org.slug, user.id) if org is not None else None
        if org is None or membership is None or not role_allows(membership.role, "billing"):
            raise DomainError(N_("Choose an organization whose billing you manage."), field="organization_id")
        cleaned["organization_id"] = org.id
        cleaned["organization_name"] = org.name
    return cleaned


def _account_email(value: str, method: str) -> str:
    """A PayPal (or Stripe) payout goes to an account named by its e-mail address: check its form."""
    from email_validator import EmailNotValidError, validate_email

    label = "PayPal" if method == "PAYPAL" else "Stripe"
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise DomainError(
            f"Enter the e-mail address of your {label} account ({error}).",
            field="account_email",
            code="invalid_account_email",
        ) from None


def request_payout(program: ReferralProgram, actor: User, amount: int, method: str, details: dict) -> ReferralPayout:
    minimum = get("referrals.payout_minimum_cents")
    if amount < minimum:
        raise DomainError(f"The smallest payout is {minimum / 100:.2f} {program.currency}.", field="amount")
    cleaned = _clean_details(method, details, actor)
    reserved = rowcount(
        db.session.execute(
            update(ReferralProgram)
            .where(ReferralProgram.id == program.id, ReferralProgram.available_balance >= amount)
            .values(
                available_balance=ReferralProgram.available_balance - amount,
                pending_payout=ReferralProgram.pending_payout + amount,
            )
        )
    )
    if not reserved:
        raise DomainError(N_("That is more than your available balance."), field="amount", code="insufficient_balance")
    payout = ReferralPayout(
        program_id=program.id, amount=amount, currency=program.currency, method=method, details=cleaned
    )
    db.session.add(payout)
    record(actor, "referral.payout_requested", payout, {"amount": amount, "method": method})
    db.session.refresh(program)
    if method == "STORE_CREDIT":
        _credit_store(payout, actor)
    else:
        _mail_payout(payout, N_("requested"))
    return payout


def _move(payout: ReferralPayout, to: str, actor) -> None:
    if to not in TRANSITIONS.get(payout.status, set()):
        raise IllegalTransition(f"A {payout.status.lower()} payout cannot become {to.lower()}.")
    payout.status = to


def approve_payout(payout: ReferralPayout, actor: User) -> None:
    _move(payout, ReferralPayout.APPROVED, actor)
    record(actor, "referral.payout_approved", payout)
    _mail_payout(payout, N_("approved"))


def mark_processing(payout: ReferralPayout, actor: User) -> None:
    _move(payout, ReferralPayout.PROCESSING, actor)
    payout.processed_at = utcnow()
    record(actor, "referral.payout_processing", payout)
    _mail_payout(payout, N_("processing"))


def complete_payout(payout: ReferralPayout, actor, transaction_id: str) -> None:
    transaction_id = (transaction_id or "").strip()
    if not transaction_id:
        raise DomainError(N_("Enter the transaction id of the transfer."), field="transaction_id")
    _move(payout, ReferralPayout.COMPLETED, actor)
    _settle(payout, paid=True)
    payout.transaction_id = transaction_id[:128]
    payout.completed_at = utcnow()
    record(actor, "referral.payout_completed", payout, {"transaction_id": payout.transaction_id})
    _mail_payout(payout, N_("completed"))


def fail_payout(payout: ReferralPayout, actor: User, reason: str) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Say why the payout failed."), field="reason")
    _move(payout, ReferralPayout.FAILED, actor)
    _settle(payout, paid=False)
    payout.error_message = reason[:1000]
    record(actor, "referral.payout_failed", payout, {"reason": payout.error_message})
    _mail_payout(payout, N_("failed"))


def cancel_payout(payout_id: int, actor: User) -> ReferralPayout:
    """The referrer takes back a payout staff have not started: the amount returns to available.

    The payout row is locked first (``FOR UPDATE``), as the staff steps lock it, so a cancel and an
    approval racing each other are serialized: the second sees the first's status and is refused."""
    payout = db.session.get(ReferralPayout, payout_id, with_for_update=True, populate_existing=True)
    program = program_of(actor)
    if payout is None or program is None or payout.program_id != program.id:
        from webapp.core.errors import NotFound

        raise NotFound(N_("No such payout."))
    if payout.status != ReferralPayout.PENDING:
        raise IllegalTransition(
            f"This payout is {payout.status.lower()}: only a pending payout can be canceled.", code="not_pending"
        )
    _move(payout, ReferralPayout.CANCELED, actor)
    _settle(payout, paid=False)
    payout.canceled_at = utcnow()
    record(actor, "referral.payout_canceled", payout, {"amount": payout.amount})
    _mail_payout(payout, N_("canceled"))
    return payout


def _settle(payout: ReferralPayout, *, paid: bool) -> None:
    """Pending money leaves the program (paid) or goes back to the available balance (failed, canceled)."""
    values = {"pending_payout": ReferralProgram.pending_payout - payout.amount}
    if paid:
        values["paid_out"] = ReferralProgram.paid_out + payout.amount
    else:
        values["available_balance"] = ReferralProgram.available_balance + payout.amount
    moved = rowcount(
        db.session.execute(
            update(ReferralProgram)
            .where(ReferralProgram.id == payout.program_id, ReferralProgram.pending_payout >= payout.amount)
            .values(**values)
        )
    )
    if not moved:
        raise DomainError(N_("The program's pending balance does not cover this payout."), code="balance_mismatch")


def _credit_store(payout: ReferralPayout, actor: User) -> None:
    """Store credit needs no transfer: it completes at once as a billing credit on the organization."""
    from webapp.billing.services import billing_account_for, issue_credit
    from webapp.orgs.models import Organization

    org = db.session.get(Organization, payout.details["organization_id"])
    issue_credit(billing_account_for(org), actor, payout.amount, f"Referral payout #{payout.id}")
    payout.status = ReferralPayout.APPROVED
    complete_payout(payout, actor, f"store-credit-{payout.id}")


def _mail_payout(payout: ReferralPayout, step: str) -> None:
    program = get_existing(ReferralProgram, payout.program_id)
    send_email(
        program.user.email,
        "referrals/payout",
        about=payout,
        subject=lazy_gettext("Referral payout %(step)s", step=lazy_gettext(step)),
        user=program.user,
        payout=payout,
        step=step,
    )


def purge_tracking(now=None) -> int:
    """Erase click IP addresses and user agents older than the retention setting."""
    cutoff = (now or utcnow()) - timedelta(days=get("referrals.tracking_retention_days"))
    return rowcount(
        db.session.execute(
            update(ReferralClick)
            .where(ReferralClick.created_at < cutoff, ReferralClick.ip_address.is_not(None))
            .values(ip_address=None, user_agent=None)
        )
    )


def statistics(program: ReferralProgram) -> dict:
    clicks = db.session.scalar(
        select(func.count()).select_from(ReferralClick).where(ReferralClick.program_id == program.id)
    )
    by_status = dict(
        db.session.execute(
            select(Referral.status, func.count()).where(Referral.program_id == program.id).group_by(Referral.status)
        ).all()
    )
    signed_up = by_status.get(Referral.SIGNED_UP, 0) + by_status.get(Referral.CONFIRMED, 0)
    return {
        "clicks": clicks or 0,
        "invited": by_status.get(Referral.PENDING, 0),
        "expired": by_status.get(Referral.EXPIRED, 0),
        "signed_up": signed_up,
        "confirmed": by_status.get(Referral.CONFIRMED, 0),
        "earnings": program.total_earnings,
        "available": program.available_balance,
        "pending": program.pending_payout,
        "paid_out": program.paid_out,
    }


def weekly_series(program: ReferralProgram, weeks: int = 12, now=None) -> list[dict]:
    """Clicks, sign-ups and confirmations per week, oldest first, for the chart."""
    now = now or utcnow()
    start = (now - timedelta(weeks=weeks - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=start.weekday())
    buckets = [{"week": start + timedelta(weeks=i), "clicks": 0, "signups": 0, "confirmed": 0} for i in range(weeks)]

    def slot(moment):
        index = (moment - start).days // 7
        return buckets[index] if 0 <= index < weeks else None

    for (created,) in db.session.execute(
        select(ReferralClick.created_at).where(
            ReferralClick.program_id == program.id, ReferralClick.created_at >= start
        )
    ):
        if (bucket := slot(created)) is not None:
            bucket["clicks"] += 1
    for signup_at, confirmed_at in db.session.execute(
        select(Referral.signup_at, Referral.confirmed_at).where(Referral.program_id == program.id)
    ):
        if signup_at and (bucket := slot(signup_at)) is not None:
            bucket["signups"] += 1
        if confirmed_at and (bucket := slot(confirmed_at)) is not None:
            bucket["confirmed"] += 1
    return buckets


def weekly_charts(program: ReferralProgram, now=None) -> list[Chart]:
    """Clicks and sign-ups per week as the chart component; a program with neither yet shows the
    empty state rather than twelve empty weeks."""
    weeks = weekly_series(program, now=now)
    return [
        Chart(
            id=f"chart-referral-{key}",
            title=gettext(title),
            points=[Point(_day_and_month(w["week"]), w[key]) for w in weeks],
            noun=gettext(noun),
            label_heading=gettext("Week of"),
            value_heading=gettext(title),
            compact=True,
            zero_is_empty=True,
        )
        for key, title, noun in (
            ("clicks", N_("Clicks per week"), N_("clicks")),
            ("signups", N_("Sign-ups per week"), N_("sign-ups")),
        )
    ]


def _day_and_month(when) -> str:
    """ "04 Dec" in English, "12月4日" in Japanese."""
    from webapp.core.i18n import is_english, language

    if is_english():
        return when.strftime("%d %b")
    from babel.dates import format_date

    return format_date(when.date(), "M月d日", locale=language())
