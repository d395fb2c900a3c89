"""Smart notifications: a user who turns the daily digest on gets one e-mail a day that groups and ranks
their unread notifications, instead of one e-mail per notification.

The ranking is the AI's (SMART_NOTIFICATIONS, charged to the user's personal organization) when it
answers well; otherwise Tessera's own rule (failures and overdue money first, then the newest), and
the digest still goes out. One digest per user and day: the ``notification_digests`` row is the key."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext
from pydantic import BaseModel, Field
from sqlalchemy import select

from webapp.core.errors import DomainError
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.notifications.models import DigestSent, DigestSetting, Notification

URGENT = (
    "alert.critical",
    "account.suspended",
    "payment.failed",
    "invoice.overdue",
    "post.failed",
    "connection.expired",
    "sync.failed",
)
MAX_ITEMS = 100
LOOKBACK_DAYS = 7


class DigestAnswer(BaseModel):
    headline: str = Field(min_length=1, max_length=500)
    order: list[int] = Field(default_factory=list, max_length=1000)


def digest_enabled(user_id: int) -> bool:
    return bool(db.session.scalar(select(DigestSetting.enabled).where(DigestSetting.user_id == user_id)))


def digest_users(user_ids: list[int]) -> set[int]:
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            select(DigestSetting.user_id).where(DigestSetting.user_id.in_(user_ids), DigestSetting.enabled.is_(True))
        )
    )


def set_digest(user_id: int, enabled: bool) -> DigestSetting:
    row = db.session.scalar(select(DigestSetting).where(DigestSetting.user_id == user_id))
    if row is None:
        row = DigestSetting(user_id=user_id, enabled=enabled)
        db.session.add(row)
    row.enabled = enabled
    db.session.flush()
    return row


def unread_for_digest(user_id: int, day: date) -> list[Notification]:
    """Unread notifications since the last digest (at most a week back); a suspended organization's
    wait on the notifications page, out of the digest (``orgs/suspension.py``)."""
    from sqlalchemy import or_

    from webapp.orgs.suspension import suspended_ids

    previous = db.session.scalar(
        select(DigestSent.created_at)
        .where(DigestSent.user_id == user_id, DigestSent.day < day)
        .order_by(DigestSent.day.desc())
        .limit(1)
    )
    since = max(previous or utcnow() - timedelta(days=LOOKBACK_DAYS), utcnow() - timedelta(days=LOOKBACK_DAYS))
    return list(
        db.session.scalars(
            select(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.read_at.is_(None),
                Notification.created_at >= since,
                or_(Notification.organization_id.is_(None), Notification.organization_id.not_in(suspended_ids())),
            )
            .order_by(Notification.id.desc())
            .limit(MAX_ITEMS)
        )
    )


def rule_rank(items: list[Notification]) -> list[Notification]:
    """Tessera's own order: urgent kinds first (in the order of ``URGENT``), then the newest."""
    return sorted(items, key=lambda n: (URGENT.index(n.type) if n.type in URGENT else len(URGENT), -n.id))


def _ai_order(user, items: list[Notification]):
    """(ordered items, headline, the answer to charge) from the AI, or None when it cannot help."""
    from webapp.ai import services as ai
    from webapp.orgs.models import Membership, Organization

    org = db.session.scalar(
        select(Organization)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user.id, Organization.is_personal.is_(True), Organization.deleted_at.is_(None))
        .limit(1)
    )
    if org is None or org.is_suspended:  # nothing charged to a suspended organization: the rule ranks
        return None
    lines = "\n".join(f"#{n.id} [{n.type}] {n.title}" + (f" — {n.body[:160]}" if n.body else "") for n in items)
    try:
        answer = ai.ask(
            org,
            user,
            "SMART_NOTIFICATIONS",
            "daily_digest",
            {"user_name": user.display_name, "items": lines},
            operation="daily_digest",
            json_mode=True,
        )
        result = ai.parsed(answer, DigestAnswer)
    except DomainError:  # no credits, provider down, a malformed answer: refunded; the rule ranks instead
        return None
    by_id = {n.id: n for n in items}
    ordered = [by_id.pop(i) for i in result.order if i in by_id]
    ordered += rule_rank(list(by_id.values()))
    return ordered, result.headline.strip(), answer


def group(ordered: list[Notification]) -> list[dict]:
    """Groups by organization and kind, in the order of each group's first (best-ranked) item."""
    from webapp.notifications.services import TYPES, absolute_link

    groups: dict[tuple, dict] = {}
    for rank, n in enumerate(ordered):
        key = (n.organization_id, n.type)
        if key not in groups:
            label = TYPES[n.type].label if n.type in TYPES else n.type
            org_name = n.organization.name if n.organization is not None else "Tessera"
            groups[key] = {
                "title": f"{label} · {org_name}",
                "label": label,
                "org": org_name,
                "rank": rank,
                "items": [],
                "urgent": n.type in URGENT,
            }
        groups[key]["items"].append({"title": n.title, "body": n.body, "link": absolute_link(n.link)})
    return sorted(groups.values(), key=lambda g: g["rank"])


def compose_digest(user_id: int, day: date):
    """Write today's digest for the user (the row and the e-mail, in the caller's transaction).

    Returns (DigestSent or None, the AI answer to release after the commit or None)."""
    from webapp.auth.models import User
    from webapp.mail import send_email
    from webapp.notifications.services import absolute_link

    user = db.session.get(User, user_id)
    if user is None or not user.email or not digest_enabled(user_id):
        return None, None
    if db.session.scalar(select(DigestSent.id).where(DigestSent.user_id == user_id, DigestSent.day == day)):
        return None, None  # sent already today
    items = unread_for_digest(user_id, day)
    if not items:
        return None, None
    answer, ai_written = None, False
    shown_headline: object = None
    ranked = _ai_order(user, items)
    if ranked is not None:
        ordered, headline, answer = ranked
        ai_written = True
    else:
        ordered = rule_rank(items)
        urgent = sum(1 for n in items if n.type in URGENT)
        headline = f"{len(items)} unread" + (f"; {urgent} need your attention first." if urgent else ".")
        # the e-mail reads it in its recipient's language; the row keeps the English
        shown_headline = (
            lazy_gettext("%(count)s unread; %(urgent)s need your attention first.", count=len(items), urgent=urgent)
            if urgent
            else lazy_gettext("%(count)s unread.", count=len(items))
        )
    # the AI call ended the read transaction: the user and the items reload from here on
    if db.session.scalar(select(DigestSent.id).where(DigestSent.user_id == user_id, DigestSent.day == day)):
        return None, answer  # another worker sent it meanwhile; our reservation is refunded
    sent = DigestSent(user_id=user_id, day=day, notification_count=len(items), headline=headline, ai_written=ai_written)
    db.session.add(sent)
    db.session.flush()  # the unique (user, day) key: a second worker fails here, before any e-mail
    message = send_email(
        user.email,
        "notifications/digest",
        subject=lazy_gettext("Your Tessera digest: %(count)s unread", count=len(items)),
        user=user,
        headline=shown_headline or headline,
        ai_written=ai_written,
        groups=group(ordered),
        day=day,
        notifications_url=absolute_link("/notifications/"),
        preferences_url=absolute_link("/notifications/preferences"),
    )
    sent.email_message_id = message.id
    if answer is not None:
        answer.charge()
    return sent, answer


def digest_due_users() -> list[int]:
    return list(db.session.scalars(select(DigestSetting.user_id).where(DigestSetting.enabled.is_(True))))
