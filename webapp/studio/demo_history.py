"""Studio demo, continued (kyoto-creators): three months of published posts with metric snapshots at
varied hours, so the queue page suggests posting times for TikTok and Instagram (YouTube has too few
posts and says so), and a video library with more generated videos, each with its thumbnail."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from webapp.core.models import utcnow
from webapp.demo import step
from webapp.extensions import db
from webapp.integrations.models import Connection
from webapp.studio.models import (
    INSTAGRAM,
    PROVIDER_OF,
    TIKTOK,
    YOUTUBE,
    MetricSnapshot,
    Post,
    PublishJob,
    Video,
)

MARK = "From the archive:"  # captions of the history posts (the step runs once)
EXTRA_VIDEOS = [
    ("Nishiki market at night", "smptehdbars", 7),
    ("Kaiseki plating, step by step", "yuvtestsrc", 9),
]
# (weekday, hour in Tokyo, how well that hour does): the pattern the suggestions should find.
HOURS = {
    TIKTOK: [(1, 19, 1.9), (4, 21, 1.6), (6, 11, 1.3), (0, 8, 0.7), (2, 13, 0.8), (3, 22, 1.0), (5, 15, 0.9)],
    INSTAGRAM: [(2, 12, 1.7), (5, 9, 1.5), (0, 20, 0.9), (3, 18, 1.0), (6, 17, 0.8)],
    YOUTUBE: [(5, 10, 1.2), (2, 19, 1.0)],
}
PER_WEEK = {TIKTOK: 2, INSTAGRAM: 2, YOUTUBE: 1}
WEEKS = {TIKTOK: range(2, 14), INSTAGRAM: range(2, 10), YOUTUBE: range(2, 6)}  # weeks back
BASE_VIEWS = {TIKTOK: 2400, INSTAGRAM: 1100, YOUTUBE: 600}
CAPTIONS = ["matcha", "bamboo grove", "onigiri", "temple bells", "night market", "kaiseki", "tea house", "ramen"]


@step(order=61)
def studio_history_demo() -> None:
    from webapp.orgs.demo import demo_org, demo_user
    from webapp.studio.demo import SLUG, _video
    from webapp.studio.services.videos import probe

    org = demo_org(SLUG)
    if org is None:
        return
    conns = {
        c.provider: c
        for c in db.session.scalars(
            select(Connection).where(Connection.organization_id == org.id, Connection.status == Connection.CONNECTED)
        )
    }
    if not all(PROVIDER_OF[p] in conns for p in HOURS):
        return  # the studio step connects the accounts (sandboxes on); without them, nothing to show
    owner = demo_user(f"owner@{SLUG}.example", "Owner of Kyoto Creators")
    for spec in EXTRA_VIDEOS:
        video = _video(org, owner, *spec)
        if video is not None and video.status == Video.PROCESSING:
            db.session.flush()
            probe(video)
    videos = db.session.scalars(
        select(Video).where(Video.organization_id == org.id, Video.status == Video.READY).order_by(Video.id)
    ).all()
    done = select(Post.id).where(Post.organization_id == org.id, Post.caption.startswith(MARK))
    if not videos or db.session.scalar(done.limit(1)):
        return
    rng = random.Random(17)
    zone = ZoneInfo(org.timezone or "Asia/Tokyo")
    today = datetime.now(zone).date()
    n = 0
    for platform, hours in HOURS.items():
        for week in WEEKS[platform]:
            for k in range(PER_WEEK[platform]):
                weekday, hour, strength = hours[(week * PER_WEEK[platform] + k) % len(hours)]
                day = today - timedelta(days=(today.weekday() - weekday) % 7, weeks=week)
                minute = rng.choice((0, 5, 12, 20, 30, 41, 55))
                at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)
                views = int(BASE_VIEWS[platform] * strength * rng.uniform(0.8, 1.2))
                _archived(org, owner, videos[n % len(videos)], platform, conns[PROVIDER_OF[platform]], at, views, rng)
                n += 1
    db.session.flush()


def _archived(org, owner, video, platform, conn, at, views, rng) -> None:
    from webapp.studio.demo import record_published

    caption = f"{MARK} {rng.choice(CAPTIONS)} in Kyoto"
    post = Post(
        organization_id=org.id,
        created_by_id=owner.id,
        video_id=video.id,
        caption=caption,
        hashtags=["kyoto"],
        scheduled_at=at,
        timezone=org.timezone,
        status=Post.PUBLISHED,
    )
    job = PublishJob(
        organization_id=org.id,
        created_by_id=owner.id,
        platform=platform,
        connection_id=conn.id,
        options={
            TIKTOK: {"privacy_level": "PUBLIC_TO_EVERYONE", "allow_comment": True},
            INSTAGRAM: {"share_to_feed": True},
            YOUTUBE: {"title": video.title, "privacy": "public"},
        }[platform],
        status=PublishJob.COMPLETED,
        scheduled_for=at,
        due_at=at,
        started_at=at,
        completed_at=at,
        attempt_number=1,
        step="published",
    )
    post.targets.append(job)
    db.session.add(post)
    db.session.flush()
    remote_id = {TIKTOK: "74", INSTAGRAM: "181", YOUTUBE: "ya"}[platform] + f"{int(at.timestamp())}{job.id:06d}"
    job.platform_post_id = remote_id
    published = record_published(org, owner, post, job, video, platform, remote_id, caption, at)
    like_rate = rng.uniform(0.06, 0.09)
    now = utcnow()
    # Syncs at varied hours: after a day, three days, near the end of the first week, a month.
    for after, share in (
        (timedelta(days=1, hours=rng.randint(0, 8)), 0.4),
        (timedelta(days=3, hours=rng.randint(0, 20)), 0.75),
        (timedelta(days=6, hours=rng.randint(0, 22)), 1.0),
        (timedelta(days=30, hours=rng.randint(0, 12)), 1.15),
    ):
        taken = at + after
        if taken > now:
            break
        v = int(views * share)
        figures = {
            "views": v,
            "likes": int(v * like_rate),
            "comments": v // 90,
            "shares": 0 if platform == YOUTUBE else v // 120,
        }
        db.session.add(MetricSnapshot(published_post_id=published.id, taken_at=taken, **figures))
        for key, value in figures.items():
            setattr(published, key, value)
        published.last_synced_at = taken
