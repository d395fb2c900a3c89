"""Demo notifications for the Harare owner: a few unread, one read."""

from __future__ import annotations

from sqlalchemy import select

from webapp.auth.services import find_user_by_email
from webapp.core.models import utcnow
from webapp.demo import seeded, step
from webapp.extensions import db
from webapp.notifications.models import Notification
from webapp.notifications.services import notify
from webapp.orgs.demo import demo_org


@step(order=75)
def notifications() -> None:
    org = demo_org("harare-retail")
    owner = find_user_by_email("owner@harare-retail.example")
    if org is None or owner is None:
        return
    if db.session.scalar(
        select(Notification.id).where(Notification.user_id == owner.id, Notification.type == "general")
    ):
        return
    base = f"/o/{org.slug}"
    notify(
        owner,
        "general",
        "Welcome to Tessera",
        "Your organization is set up. Invite your team from Members.",
        f"{base}/members",
        org=org,
    )
    notify(
        owner, "sync.failed", "Freee sync failed", "The last sync did not finish: the token was refused.", base, org=org
    )
    notify(owner, "post.published", "Published: Winter specials", "The post is live.", base, org=org)
    first = seeded(
        db.session.scalar(select(Notification).where(Notification.user_id == owner.id, Notification.type == "general")),
        "the owner's first notification",
    )
    first.read_at = utcnow()


@step(order=86)
def daily_digest_setting() -> None:
    """The Harare owner reads one digest a morning instead of an e-mail per notification."""
    from webapp.notifications.digest import set_digest

    owner = find_user_by_email("owner@harare-retail.example")
    if owner is not None:
        set_digest(owner.id, True)
