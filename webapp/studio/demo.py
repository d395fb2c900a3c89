"""Studio demo (kyoto-creators): connected sandbox accounts, READY generated videos, posts scheduled
next week, published posts with a metric history, and one partial failure.

The accounts are connected through the sandbox process's consent screens (the demo clicks "Allow"),
so publishing from the demo works against the sandboxes while they run.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from webapp.core.models import utcnow
from webapp.demo import step
from webapp.extensions import db
from webapp.integrations.models import Connection
from webapp.integrations.sandbox_process import serving_sandboxes
from webapp.studio.models import (
    INSTAGRAM,
    PROVIDER_OF,
    TIKTOK,
    YOUTUBE,
    MetricSnapshot,
    Post,
    PublishAttempt,
    PublishedPost,
    PublishJob,
    Video,
)

log = logging.getLogger(__name__)
SLUG = "kyoto-creators"
ACCOUNTS = {TIKTOK: "kyoto_bites", INSTAGRAM: "kyoto.bites", YOUTUBE: "kyotobites"}
VIDEOS = [
    ("Matcha latte in 30 seconds", "testsrc2", 8),
    ("Arashiyama at sunrise", "smptebars", 12),
    ("Three onigiri for lunch", "rgbtestsrc", 10),
    ("Temple bells (behind the scenes)", "testsrc", 6),
]


def _connection(org, owner, platform: str) -> Connection:
    """The account connected through the platform's sandbox: the real OAuth flow over HTTP, with the
    creator's "Allow" posted to the consent screen (the sandbox process must answer at SANDBOX_URL)."""
    from webapp.integrations.demo import connect_via_sandbox

    provider = PROVIDER_OF[platform]
    conn = db.session.scalar(
        select(Connection).where(
            Connection.organization_id == org.id,
            Connection.provider == provider,
            Connection.status == Connection.CONNECTED,
        )
    )
    if conn is not None:
        return conn
    return connect_via_sandbox(provider, org, owner, {"username": ACCOUNTS[platform]})


def _video(org, owner, title: str, source: str, seconds: int) -> Video | None:
    existing = db.session.scalar(select(Video).where(Video.organization_id == org.id, Video.title == title))
    if existing is not None:
        return existing
    if shutil.which("ffmpeg") is None:
        print(f"demo: ffmpeg is not installed; skipping the generated video “{title}”")
        return None
    from webapp.studio.services.videos import upload_video

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.mp4"
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"{source}=size=540x960:rate=30:duration={seconds}",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-pix_fmt",
                "yuv420p",
                str(path),
            ],
            check=True,
        )
        with path.open("rb") as fh:
            video = upload_video(org, owner, fh, f"{title}.mp4", title)
    return video


def _published(org, owner, video, caption, days_ago, outcomes, every: int = 1) -> None:
    """A post published ``days_ago`` with a metric history (a snapshot every ``every`` days);
    ``outcomes``: platform → None or failure reason."""
    if db.session.scalar(select(Post.id).where(Post.organization_id == org.id, Post.caption == caption)):
        return
    at = utcnow() - timedelta(days=days_ago, hours=3)
    post = Post(
        organization_id=org.id,
        created_by_id=owner.id,
        video_id=video.id,
        caption=caption,
        hashtags=["kyoto", "japanfood"],
        scheduled_at=at,
        timezone=org.timezone,
    )
    db.session.add(post)
    for platform, failure in outcomes.items():
        conn = _connection(org, owner, platform)
        options = {
            TIKTOK: {"privacy_level": "PUBLIC_TO_EVERYONE", "allow_comment": True},
            INSTAGRAM: {"share_to_feed": True},
            YOUTUBE: {"title": video.title, "privacy": "public"},
        }[platform]
        job = PublishJob(
            organization_id=org.id,
            created_by_id=owner.id,
            platform=platform,
            connection_id=conn.id,
            options=options,
            scheduled_for=at,
            due_at=at,
            started_at=at,
            attempt_number=1,
        )
        post.targets.append(job)
        db.session.flush()
        if failure:
            job.status, job.failed_at, job.error_kind, job.error_message = PublishJob.FAILED, at, "rejected", failure
            db.session.add(
                PublishAttempt(
                    job=job,
                    attempt_number=1,
                    step="processing",
                    http_status=None,
                    error_kind="rejected",
                    excerpt=failure,
                    outcome="failed",
                    created_at=at,
                )
            )
            continue
        remote_id = {TIKTOK: "73", INSTAGRAM: "180", YOUTUBE: "yt"}[platform] + f"{int(at.timestamp())}{job.id:06d}"
        job.status, job.completed_at, job.platform_post_id, job.step = PublishJob.COMPLETED, at, remote_id, "published"
        published = record_published(org, owner, post, job, video, platform, remote_id, caption, at)
        base = 300 + job.id * 37 % 500
        for day in sorted({*range(0, days_ago + 1, every), days_ago}):
            views = int(base * (1 + day) ** 1.1)
            taken = at + timedelta(days=day, hours=1)
            snap = {
                "views": views,
                "likes": views // 14,
                "comments": views // 90,
                "shares": 0 if platform == YOUTUBE else views // 120,
            }
            db.session.add(MetricSnapshot(published_post_id=published.id, taken_at=taken, **snap))
            for key, value in snap.items():
                setattr(published, key, value)
            published.last_synced_at = taken
    from webapp.studio.services.posts import rollup

    rollup(post)


PAST_CAPTIONS = [
    "New year mochi pounding",
    "Plum blossoms at Kitano Tenmangu",
    "Cherry blossom bento",
    "Golden week street food",
    "Rainy season warabi mochi",
    "Gion Matsuri night stalls",
    "Cold somen in the summer heat",
    "Moon-viewing dango",
    "Autumn leaves and roasted chestnuts",
    "Yudofu at Nanzen-ji",
]


def record_published(org, owner, post, job, video, platform, remote_id, caption, at) -> PublishedPost:
    """A target the demo publishes by hand: its successful attempt and the published post (also used
    by demo_history.py)."""
    db.session.add(PublishAttempt(job=job, attempt_number=1, step="published", outcome="ok", created_at=at))
    published = PublishedPost(
        organization_id=org.id,
        created_by_id=owner.id,
        post_id=post.id,
        job_id=job.id,
        video_id=video.id,
        platform=platform,
        platform_post_id=remote_id,
        url=_url(platform, remote_id),
        caption=caption,
        hashtags=post.hashtags,
        published_at=at,
    )
    db.session.add(published)
    db.session.flush()
    return published


def _url(platform: str, remote_id: str) -> str:
    return {
        TIKTOK: f"https://www.tiktok.com/@{ACCOUNTS[TIKTOK]}/video/{remote_id}",
        INSTAGRAM: f"https://www.instagram.com/reel/{remote_id}/",
        YOUTUBE: f"https://www.youtube.com/shorts/{remote_id}",
    }[platform]


@step(order=60)
def studio_demo() -> None:
    from webapp.orgs.demo import demo_org, demo_user

    org = demo_org(SLUG)
    if org is None:
        return
    owner = demo_user(f"owner@{SLUG}.example", "Owner of Kyoto Creators")
    if not current_app.config.get("SANDBOXES_ENABLED"):
        log.info("demo: sandboxes are off; studio demo skipped")
        return
    with serving_sandboxes():
        for platform in ACCOUNTS:
            _connection(org, owner, platform)
    videos = [v for v in (_video(org, owner, *spec) for spec in VIDEOS) if v is not None]
    db.session.flush()
    from webapp.studio.services.videos import probe

    for video in videos:
        if video.status == Video.PROCESSING:
            probe(video)  # the demo runs the probe now rather than waiting for a worker
    ready = [v for v in videos if v.status == Video.READY]
    if not ready:
        print("demo: no READY videos (ffmpeg missing?); studio posts skipped")
        return
    _published(org, owner, ready[0], "Matcha latte, the quick way", 6, {TIKTOK: None, INSTAGRAM: None, YOUTUBE: None})
    _published(
        org, owner, ready[min(1, len(ready) - 1)], "Sunrise walk through the bamboo", 3, {TIKTOK: None, YOUTUBE: None}
    )
    _published(
        org,
        owner,
        ready[min(2, len(ready) - 1)],
        "Onigiri three ways",
        1,
        {
            TIKTOK: None,
            YOUTUBE: None,
            INSTAGRAM: "Instagram could not process the video: the audio track is not supported (2207026).",
        },
    )
    # A year of posting: one post a month, its figures synced weekly since (engagement over time).
    for month, caption in enumerate(PAST_CAPTIONS):
        video = ready[month % len(ready)]
        platforms = {TIKTOK: None, YOUTUBE: None} if month % 2 else {TIKTOK: None, INSTAGRAM: None}
        _published(org, owner, video, caption, 335 - month * 30, platforms, every=7)
    # Posts scheduled next week, in Tokyo time.
    tz = ZoneInfo(org.timezone)
    next_monday = (datetime.now(tz) + timedelta(days=7 - datetime.now(tz).weekday())).date()
    for offset, hour, video, caption in (
        (0, 18, ready[0], "Matcha latte, iced version"),
        (2, 12, ready[-1], "Behind the scenes at the temple"),
        (4, 9, ready[min(1, len(ready) - 1)], "Sunrise timelapse, part two"),
    ):
        if db.session.scalar(select(Post.id).where(Post.organization_id == org.id, Post.caption == caption)):
            continue
        day = next_monday + timedelta(days=offset)
        when = datetime(day.year, day.month, day.day, hour, tzinfo=tz).astimezone(ZoneInfo("UTC"))
        post = Post(
            organization_id=org.id,
            created_by_id=owner.id,
            video_id=video.id,
            caption=caption,
            hashtags=["kyoto"],
            scheduled_at=when,
            timezone=org.timezone,
            status=Post.SCHEDULED,
            queued=True,  # at the queue's posting times below
        )
        for platform in (TIKTOK, INSTAGRAM, YOUTUBE):
            conn = _connection(org, owner, platform)
            options = {
                TIKTOK: {"privacy_level": "PUBLIC_TO_EVERYONE", "allow_comment": True},
                INSTAGRAM: {"share_to_feed": True},
                YOUTUBE: {"title": caption, "privacy": "public"},
            }[platform]
            post.targets.append(
                PublishJob(
                    organization_id=org.id,
                    created_by_id=owner.id,
                    platform=platform,
                    connection_id=conn.id,
                    options=options,
                    status=PublishJob.PENDING,
                    scheduled_for=when,
                    due_at=when,
                )
            )
        db.session.add(post)
        db.session.flush()
        from webapp.studio.jobs import publish_target

        for job in post.targets:
            publish_target.delay(job.id, at=when)
    _queue_times(org)
    _awaiting_approval(org, ready[0], next_monday + timedelta(days=5), tz)
    _per_platform_versions(org, owner, ready[-1], next_monday + timedelta(days=6), tz)


def _queue_times(org) -> None:
    """The posting queue's weekly times (Tokyo): the scheduled demo posts sit on them."""
    from webapp.studio.models import QueueSlot

    if db.session.scalar(select(QueueSlot.id).where(QueueSlot.organization_id == org.id)) is None:
        for weekday, hour in ((0, 18), (2, 12), (4, 9)):
            db.session.add(QueueSlot(organization_id=org.id, weekday=weekday, minute=hour * 60))


def _awaiting_approval(org, video, day, tz) -> None:
    """Approvals are on in the demo organization, and the member's post waits for an owner or admin."""
    from webapp.orgs.demo import demo_user
    from webapp.studio.models import StudioSettings

    caption = "Tea ceremony in sixty seconds"
    if db.session.scalar(select(StudioSettings.id).where(StudioSettings.organization_id == org.id)) is None:
        db.session.add(StudioSettings(organization_id=org.id, approval_required=True))
    if db.session.scalar(select(Post.id).where(Post.organization_id == org.id, Post.caption == caption)):
        return
    member = demo_user(f"member@{SLUG}.example", "Member at Kyoto Creators")
    when = datetime(day.year, day.month, day.day, 17, tzinfo=tz).astimezone(ZoneInfo("UTC"))
    post = Post(
        organization_id=org.id,
        created_by_id=member.id,
        submitted_by_id=member.id,
        video_id=video.id,
        caption=caption,
        hashtags=["kyoto", "tea"],
        scheduled_at=when,
        timezone=org.timezone,
        status=Post.NEEDS_APPROVAL,
        approval=Post.APPROVAL_PENDING,
    )
    conn = _connection(org, member, TIKTOK)
    post.targets.append(
        PublishJob(
            organization_id=org.id,
            created_by_id=member.id,
            platform=TIKTOK,
            connection_id=conn.id,
            options={"privacy_level": "PUBLIC_TO_EVERYONE", "allow_comment": True},
            status=PublishJob.DRAFT,
            scheduled_for=when,
            due_at=when,
        )
    )
    db.session.add(post)
    db.session.flush()


def _per_platform_versions(org, owner, video, day, tz) -> None:
    """Saved hashtag groups, and a post with a version per platform: its own TikTok caption, hashtags
    and interaction settings, the shared caption on Instagram with a first comment, a YouTube title,
    description and tags."""
    from webapp.studio.models import HashtagGroup

    groups = {
        "Kyoto food": ["kyoto", "japanfood", "matcha"],
        "Travel Japan": ["japantravel", "kyototrip", "visitjapan"],
    }
    for name, tags in groups.items():
        exists = db.session.scalar(
            select(HashtagGroup.id).where(HashtagGroup.organization_id == org.id, HashtagGroup.name == name)
        )
        if exists is None:
            db.session.add(HashtagGroup(organization_id=org.id, created_by_id=owner.id, name=name, hashtags=tags))
    caption = "Nishiki Market in one minute"
    if db.session.scalar(select(Post.id).where(Post.organization_id == org.id, Post.caption == caption)):
        return
    when = datetime(day.year, day.month, day.day, 11, tzinfo=tz).astimezone(ZoneInfo("UTC"))
    post = Post(
        organization_id=org.id,
        created_by_id=owner.id,
        video_id=video.id,
        caption=caption,
        hashtags=groups["Kyoto food"],  # the "Kyoto food" group, added in the composer
        scheduled_at=when,
        timezone=org.timezone,
        status=Post.SCHEDULED,
    )
    options = {
        TIKTOK: {
            "caption": "POV: you have 60 seconds and 400 years of market to see",
            "hashtags": ["fyp", "kyoto", "streetfood"],
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "disable_comment": False,
            "disable_duet": True,
            "disable_stitch": True,
        },
        INSTAGRAM: {"share_to_feed": True, "first_comment": "Stalls we visited: Aritsugu, Uchida pickles, Konna-monja"},
        YOUTUBE: {
            "title": "Nishiki Market, Kyoto, in one minute #Shorts",
            "description": "Kyoto's 400-year-old market, five stalls in sixty seconds.",
            "hashtags": ["shorts", "kyoto"],
            "tags": ["kyoto", "nishiki market", "japanese street food"],
            "privacy": "unlisted",
        },
    }
    for platform, opts in options.items():
        conn = _connection(org, owner, platform)
        post.targets.append(
            PublishJob(
                organization_id=org.id,
                created_by_id=owner.id,
                platform=platform,
                connection_id=conn.id,
                options=opts,
                status=PublishJob.PENDING,
                scheduled_for=when,
                due_at=when,
            )
        )
    db.session.add(post)
    db.session.flush()
    from webapp.studio.jobs import publish_target

    for job in post.targets:
        publish_target.delay(job.id, at=when)


from webapp.studio import demo_history  # noqa: E402,F401  (its step: engagement history, more videos)
