"""Engagement: the sync job fills PublishedPost figures with history; the posts page charts them and
the dashboard shows the week's totals. YouTube calls count against the quota's "other" bucket."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from tests.studio.conftest import post_form
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.studio.jobs import sync_engagement
from webapp.studio.models import MetricSnapshot, PublishedPost, YouTubeQuota


def test_engagement_sync_charts_and_dashboard(creator, run_jobs):
    creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator))
    run_jobs()
    assert sync_engagement() == 3
    with time_machine.travel(utcnow() + timedelta(hours=5)):
        assert sync_engagement() == 3
        assert sync_engagement() == 0  # not due again within the hour
    rows = db.session.scalars(select(PublishedPost).order_by(PublishedPost.platform)).all()
    for row in rows:
        db.session.refresh(row)
        assert row.views > 0 and row.likes > 0 and row.last_synced_at is not None
        assert len(row.snapshots) == 2 and row.snapshots[1].views >= row.snapshots[0].views
    youtube = next(r for r in rows if r.platform == "YOUTUBE")
    assert youtube.shares == 0  # the Data API has no share count
    other = db.session.scalars(select(YouTubeQuota).where(YouTubeQuota.bucket == "other")).all()
    assert sum(q.used for q in other) == 2
    assert db.session.scalar(select(YouTubeQuota.used).where(YouTubeQuota.bucket == "upload")) == 1600
    assert len(db.session.scalars(select(MetricSnapshot)).all()) == 6

    page = creator.client.get(f"/o/{creator.slug}/studio/posts").get_data(as_text=True)
    assert '<title id="chart-views-tiktok-svg-title">TikTok views over time</title>' in page
    tiktok = page.split('id="chart-views-tiktok"')[1].split("</figure>")[0]
    days = {s.taken_at.date() for r in rows if r.platform == "TIKTOK" for s in r.snapshots}
    # one dot per day with figures; a line joins them once there are two days (one day: a single point)
    assert tiktok.count('class="dot"') == len(days) and ("<polyline" in tiktok) == (len(days) > 1)
    assert 'aria-labelledby="chart-views-tiktok-svg-title"' in tiktok
    tiktok_row = next(r for r in rows if r.platform == "TIKTOK")
    assert f'data-value="{tiktok_row.views}">{tiktok_row.views:,} views</td>' in tiktok  # the table's last day
    assert f"{rows[0].views:,}" in page
    dashboard = creator.client.get(f"/o/{creator.slug}/").get_data(as_text=True)
    total = sum(r.views for r in rows)
    assert "Studio this week" in dashboard and f"{total:,}" in dashboard
