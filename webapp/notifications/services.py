"""``notify`` — the one way any domain tells people something — plus read state, preferences and the
live channel. A notification is published to Redis pub/sub only after the transaction commits, so a
listener that reacts to it always finds the row."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from webapp.core.errors import DomainError, NotFound
from webapp.core.models import rowcount, utcnow
from webapp.core.terms import N_
from webapp.extensions import db
from webapp.notifications.models import Notification, NotificationPreference

log = logging.getLogger(__name__)

IN_APP, EMAIL, BOTH, NONE = "in_app", "email", "both", "none"
CHANNELS = {IN_APP: N_("In the app"), EMAIL: N_("By e-mail"), BOTH: N_("Both"), NONE: N_("Off")}
PUBLISH_KEY = "tessera.pending_publish"


@dataclass(frozen=True)
class NotificationType:
    name: str
    label: str
    default: str = IN_APP
    staff_only: bool = False


TYPES: dict[str, NotificationType] = {}


def register_type(name: str, label: str, default: str = IN_APP, staff_only: bool = False) -> NotificationType:
    """Declare a notification type so people can choose its channel on the preferences page."""
    if default not in CHANNELS:
        raise ValueError(f"unknown channel {default!r}")
    TYPES[name] = NotificationType(name, label, default, staff_only)
    return TYPES[name]


for _name, _label, _default in (
    ("invoice.issued", N_("An invoice was issued"), BOTH),
    ("invoice.overdue", N_("An invoice is overdue"), BOTH),
    ("payment.received", N_("A payment was received"), IN_APP),
    ("payment.failed", N_("A payment failed"), BOTH),
    ("account.suspended", N_("The account was suspended"), BOTH),
    ("post.published", N_("A post was published"), IN_APP),
    ("post.failed", N_("A post failed to publish"), BOTH),
    ("connection.expired", N_("A connection expired"), BOTH),
    ("sync.failed", N_("A sync failed"), IN_APP),
    ("ticket.replied", N_("Support replied to a ticket"), BOTH),
    ("ticket.updated", N_("A support ticket changed"), IN_APP),
    ("general", N_("Other messages"), IN_APP),
):
    register_type(_name, _label, _default)
register_type("ticket.customer_replied", N_("A customer replied to a ticket assigned to you"), BOTH, staff_only=True)
register_type("alert.critical", N_("A critical system alert"), EMAIL, staff_only=True)


def user_channel(user_id: int) -> str:
    """The user's pub/sub channel. Pub/sub ignores Redis database numbers, so the channel carries the
    instance's namespace: two deployments (or test runs) sharing one Redis server never hear each other."""
    from webapp.jobs.namespace import key

    return key("notifications", "user", user_id)


# --- publishing -------------------------------------------------------------------------------


def publish_after_commit(channel: str, payload: dict) -> None:
    """Queue a pub/sub message that goes out once the current transaction commits."""
    db.session().info.setdefault(PUBLISH_KEY, []).append((channel, payload))


@event.listens_for(Session, "after_commit")
def _publish_pending(session: Session) -> None:
    pending = session.info.pop(PUBLISH_KEY, [])
    if not pending or not has_app_context():
        return
    redis = current_app.extensions.get("tessera.redis")
    if redis is None:
        return
    try:
        for channel, payload in pending:
            redis.publish(channel, json.dumps(payload))
    except RedisError:
        log.warning("Redis refused a live notification; clients will catch up by polling")


@event.listens_for(Session, "after_soft_rollback")
def _discard_pending(session: Session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(PUBLISH_KEY, None)


# --- notify -----------------------------------------------------------------------------------


def _users(user_or_users) -> list:
    from webapp.auth.models import User

    items = (
        user_or_users if isinstance(user_or_users, Iterable) and not isinstance(user_or_users, str) else [user_or_users]
    )
    ids: list[int] = []
    for item in items:
        if item is None:
            continue
        user_id = item if isinstance(item, int) else getattr(item, "id", None)
        if user_id is not None and user_id not in ids:
            ids.append(user_id)
    if not ids:
        return []
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def preferences_for(user_ids: list[int], type_: str) -> dict[int, str]:
    rows = db.session.execute(
        select(NotificationPreference.user_id, NotificationPreference.channel).where(
            NotificationPreference.user_id.in_(user_ids), NotificationPreference.type == type_
        )
    )
    return dict(rows.all())


def default_channel(type_: str) -> str:
    known = TYPES.get(type_)
    return known.default if known else IN_APP


def absolute_link(link: str | None) -> str | None:
    if link and link.startswith("/"):
        return current_app.config["BASE_URL"].rstrip("/") + link
    return link


def notify(user_or_users, type, title, body="", link=None, org=None, about=None) -> list[Notification]:
    """Tell one user or several: in the app, by e-mail, both or not at all, as each chose for ``type``.

    Creates a ``Notification`` per in-app recipient (flushed, not committed), publishes it on the
    recipient's live channel after commit, and sends e-mail through the mail module. Returns the rows.
    """
    from webapp.mail import send_email

    users = _users(user_or_users)
    if not users:
        return []
    title = (title or "").strip()[:200] or TYPES.get(type, NotificationType(type, type)).label
    org_id = getattr(org, "id", org)
    from webapp.notifications.digest import digest_users

    chosen = preferences_for([u.id for u in users], type)
    digesting = digest_users([u.id for u in users])
    fallback = default_channel(type)
    created: list[Notification] = []
    for user in users:
        channel = chosen.get(user.id, fallback)
        if user.id in digesting and channel in (EMAIL, BOTH):
            channel = IN_APP  # its e-mail is the daily digest, which reads the stored notification
        if channel in (IN_APP, BOTH):
            row = Notification(
                user_id=user.id, organization_id=org_id, type=type, title=title, body=body or "", link=link
            )
            db.session.add(row)
            created.append(row)
        if channel in (EMAIL, BOTH) and user.email:
            send_email(
                user.email,
                "notifications/notification",
                subject=title,
                org=org_id,
                about=about,
                user=user,
                title=title,
                body=body or "",
                link=absolute_link(link),
                preferences_url=absolute_link("/notifications/preferences"),
            )
    if created:
        db.session.flush()
        for row in created:
            publish_after_commit(user_channel(row.user_id), {"kind": "notification", "id": row.id, "title": title})
    return created


# --- reading ----------------------------------------------------------------------------------


def unread_count(user_id: int) -> int:
    return unread_counts([user_id])[user_id]


def unread_counts(user_ids) -> dict[int, int]:
    """Unread notifications of each user, in one query (the live streams re-check many at a time)."""
    ids = list(set(user_ids))
    counts = dict.fromkeys(ids, 0)
    if ids:
        rows = db.session.execute(
            select(Notification.user_id, func.count(Notification.id))
            .where(Notification.user_id.in_(ids), Notification.read_at.is_(None))
            .group_by(Notification.user_id)
        )
        counts.update({user_id: count for user_id, count in rows})
    return counts


def list_for(user_id: int, unread_only: bool = False):
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt.order_by(Notification.id.desc())


def get_for(user_id: int, notification_id: int) -> Notification:
    row = db.session.scalar(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
    )
    if row is None:
        raise NotFound(N_("There is no such notification."))
    return row


def mark_read(user_id: int, notification_id: int) -> Notification:
    row = get_for(user_id, notification_id)
    if row.read_at is None:
        row.read_at = utcnow()
        publish_after_commit(user_channel(user_id), {"kind": "read"})
    return row


def mark_all_read(user_id: int) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    publish_after_commit(user_channel(user_id), {"kind": "read"})
    return rowcount(result)


# --- preferences ------------------------------------------------------------------------------


def types_for(is_staff: bool) -> list[NotificationType]:
    return [t for t in TYPES.values() if is_staff or not t.staff_only]


def preferences_of(user_id: int) -> dict[str, str]:
    stored = dict(
        db.session.execute(
            select(NotificationPreference.type, NotificationPreference.channel).where(
                NotificationPreference.user_id == user_id
            )
        ).all()
    )
    return {name: stored.get(name, t.default) for name, t in TYPES.items()}


def set_preferences(user_id: int, choices: dict[str, str]) -> None:
    for type_, channel in choices.items():
        if type_ not in TYPES:
            raise DomainError(f"Unknown notification type {type_!r}.", field=type_)
        if channel not in CHANNELS:
            raise DomainError(f"Choose one of: {', '.join(CHANNELS.values())}.", field=type_)
    existing = {
        p.type: p
        for p in db.session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user_id))
    }
    for type_, channel in choices.items():
        row = existing.get(type_)
        if row is None:
            db.session.add(NotificationPreference(user_id=user_id, type=type_, channel=channel))
        else:
            row.channel = channel
    db.session.flush()
