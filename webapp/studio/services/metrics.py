"""Engagement: figures of published posts from each platform into PublishedPost, with history
(MetricSnapshot) for the charts, and the totals the dashboard shows."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import func, or_, select

from webapp.core.charts import LINE, Chart, series
from webapp.core.models import utcnow
from webapp.core.transaction import commit_progress
from webapp.extensions import db
from webapp.integrations import oauth
from webapp.integrations.models import Connection
from webapp.integrations.providers import instagram, tiktok, youtube
from webapp.integrations.providers.client import ProviderClient, ProviderError
from webapp.settings import get
from webapp.studio.models import PLATFORM_LABELS, TIKTOK, YOUTUBE, MetricSnapshot, PublishedPost, PublishJob
from webapp.studio.services import quota

log = logging.getLogger(__name__)
FIGURES = ("views", "likes", "comments", "shares")


def due_posts(now: datetime | None = None) -> list[PublishedPost]:
    """Recent posts whose figures are stale; never a suspended organization's (no platform calls for it)."""
    from webapp.orgs.suspension import suspended_ids

    now = now or utcnow()
    stale = now - timedelta(minutes=get("studio.metrics_sync_minutes")) + timedelta(seconds=30)
    return list(
        db.session.scalars(
            select(PublishedPost)
            .where(
                PublishedPost.published_at >= now - timedelta(days=get("studio.metrics_days")),
                or_(PublishedPost.last_synced_at.is_(None), PublishedPost.last_synced_at <= stale),
                PublishedPost.organization_id.not_in(suspended_ids()),
            )
            .order_by(PublishedPost.id)
        )
    )


def _fetch(platform: str, conn: Connection, client: ProviderClient, ids: list[str]) -> dict[str, dict]:
    if platform == TIKTOK:
        return tiktok.video_metrics(conn, client, ids)
    if platform == YOUTUBE:
        if not quota.consume("other", get("studio.youtube_call_cost")):
            return {}
        commit_progress("the quota used is saved before the slow platform call")
        return youtube.video_statistics(conn, client, ids)
    return {i: instagram.media_insights(conn, client, i) for i in ids}


def sync_posts(posts: list[PublishedPost]) -> int:
    """Fetch and store figures; a platform problem is kept on the row and the others carry on."""
    groups: dict[tuple[int, str], list[PublishedPost]] = defaultdict(list)
    for p in posts:
        job = db.session.get(PublishJob, p.job_id)
        if job is not None and job.connection_id:
            groups[(job.connection_id, p.platform)].append(p)
    synced = 0
    for (conn_id, platform), items in groups.items():
        conn = db.session.get(Connection, conn_id)
        if conn is None or conn.status != Connection.CONNECTED:
            continue
        for start in range(0, len(items), 20):
            batch = items[start : start + 20]
            try:
                with ProviderClient(conn.provider, org_id=conn.organization_id) as client:
                    figures = _fetch(platform, conn, client, [p.platform_post_id for p in batch])
            except (ProviderError, oauth.ConnectionUnavailable) as error:
                for p in batch:
                    p.sync_error = str(error)[:300]
                continue
            now = utcnow()
            for p in batch:
                values = figures.get(p.platform_post_id)
                if values is None:
                    continue
                for name in FIGURES:
                    setattr(p, name, int(values.get(name, 0)))
                p.last_synced_at = now
                p.sync_error = None
                db.session.add(
                    MetricSnapshot(published_post_id=p.id, taken_at=now, **{n: getattr(p, n) for n in FIGURES})
                )
                synced += 1
            commit_progress("metrics are saved per platform as they are fetched (a job)")
    return synced


def sync_due() -> int:
    return sync_posts(due_posts())


def totals(org, since: datetime) -> dict:
    row = db.session.execute(
        select(
            *(func.coalesce(func.sum(getattr(PublishedPost, n)), 0) for n in FIGURES), func.count(PublishedPost.id)
        ).where(PublishedPost.organization_id == org.id, PublishedPost.published_at >= since)
    ).one()
    return {**dict(zip(FIGURES, (int(v) for v in row[:4]), strict=True)), "posts": int(row[4])}


def per_platform(org) -> dict[str, dict]:
    rows = db.session.execute(
        select(
            PublishedPost.platform,
            *(func.coalesce(func.sum(getattr(PublishedPost, n)), 0) for n in FIGURES),
            func.count(PublishedPost.id),
        )
        .where(PublishedPost.organization_id == org.id)
        .group_by(PublishedPost.platform)
    ).all()
    return {r[0]: {**dict(zip(FIGURES, (int(v) for v in r[1:5]), strict=True)), "posts": int(r[5])} for r in rows}


def history(org, platform: str, days: int = 14) -> list[tuple[str, int]]:
    """Views per day for a platform: for each day, the latest snapshot of each post summed."""
    since = utcnow() - timedelta(days=days)
    snaps = db.session.execute(
        select(MetricSnapshot.published_post_id, MetricSnapshot.taken_at, MetricSnapshot.views)
        .join(PublishedPost, PublishedPost.id == MetricSnapshot.published_post_id)
        .where(
            PublishedPost.organization_id == org.id,
            PublishedPost.platform == platform,
            MetricSnapshot.taken_at >= since,
        )
        .order_by(MetricSnapshot.taken_at)
    ).all()
    latest: dict[str, dict[int, int]] = defaultdict(dict)
    for post_id, taken_at, views in snaps:
        latest[taken_at.date().isoformat()][post_id] = views
    out, running = [], {}
    for day in sorted(latest):
        running.update(latest[day])
        out.append((day, sum(running.values())))
    return out


def views_chart(org, platform: str, days: int = 14) -> Chart:
    """A platform's views per day as the one chart component (a line: the views add up over time)."""
    label = PLATFORM_LABELS[platform]
    return Chart(
        id=f"chart-views-{platform.lower()}",
        title=gettext("%(platform)s views over time", platform=label),
        points=series(history(org, platform, days)),
        kind=LINE,
        noun=gettext("views"),
        label_heading=gettext("Day"),
        value_heading=gettext("Views"),
        compact=True,
        empty_text=gettext("No figures yet"),
    )
