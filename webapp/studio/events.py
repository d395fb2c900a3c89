"""Studio's reactions to its own outcomes: the creator gets an e-mail when a post publishes or fails
(the notifications domain subscribes to the same events for the in-app notice)."""

from __future__ import annotations

from flask import current_app, url_for

from webapp.core.events import Event, subscribe
from webapp.extensions import db


@subscribe("post.failed", "post.published")
def email_creator(event: Event) -> None:
    from webapp.auth.models import User
    from webapp.mail import send_email
    from webapp.orgs.models import Organization
    from webapp.studio.models import Post

    post = db.session.get(Post, event.data.get("post_id"))
    if post is None or post.created_by_id is None:
        return
    user = db.session.get(User, post.created_by_id)
    org = db.session.get(Organization, post.organization_id)
    if user is None or org is None:
        return
    failed = event.name == "post.failed"
    link = current_app.config["BASE_URL"] + url_for("studio.post_detail", slug=org.slug, post_id=post.id, _external=False)
    send_email(
        user.email,
        "studio/post_failed" if failed else "studio/post_published",
        subject=(f"A post could not be published to {event.data.get('platform_label')}" if failed
                 else f"Your post is live on {event.data.get('platform_label')}"),
        org=org,
        user=user,
        post=post,
        platform_label=event.data.get("platform_label"),
        reason=event.data.get("reason", ""),
        link=link,
    )
