"""The organization dashboard's Studio card: this week's totals."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.orgs.dashboard import panel
from webapp.studio.models import Post


@panel("studio/_panel.html", "studio")
def studio_week(org) -> dict:
    from webapp.studio.services.metrics import totals

    now = utcnow()
    scheduled = db.session.scalar(
        select(func.count(Post.id)).where(
            Post.organization_id == org.id,
            Post.status == Post.SCHEDULED,
            Post.scheduled_at >= now,
            Post.scheduled_at < now + timedelta(days=7),
        )
    )
    return {"week": totals(org, now - timedelta(days=7)), "scheduled": scheduled or 0}
