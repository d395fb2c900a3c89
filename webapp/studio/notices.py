"""Notifications of studio's own events: the post's creator hears when it is published or failed."""

from __future__ import annotations

from webapp.core.events import Event, subscribe
from webapp.notifications.services import notify
from webapp.notifications.subscribers import (
    MANAGER_ROLES,
    first_label,
    lookup,
    members_with_roles,
    org_link,
    safe_handler,
)
from webapp.studio.models import Post


@subscribe("post.published", "post.failed")
@safe_handler
def post_event(event: Event) -> None:
    post_id = event.data.get("post_id")
    post = lookup(Post, post_id)
    creator = getattr(post, "created_by_id", None) or event.actor_id
    recipients = [creator] if creator else members_with_roles(event.org_id, MANAGER_ROLES)
    name = first_label(post, "title", "caption", default="Your post")[:80]
    if event.name == "post.published":
        title, body = f"Published: {name}", "The post is live."
    else:
        title, body = f"Failed to publish: {name}", "The post could not be published. Open it to see why and retry."
    link = org_link(event.org_id, "studio.post", post_id=post_id) if post_id else org_link(event.org_id, "studio.index")
    notify(recipients, event.name, title, body, link, org=event.org_id)
