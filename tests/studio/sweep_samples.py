"""Tenancy sweep: one committed object per URL variable of the studio routes, in ``org``."""

from __future__ import annotations

import io
import secrets

from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.storage import storage


def _video(org, user):
    from webapp.studio.models import Video

    video = Video(
        organization_id=org.id,
        created_by_id=user.id,
        title="Sweep video",
        storage_key=f"studio/{org.id}/videos/sweep-{secrets.token_hex(6)}.mp4",
        format="mp4",
        file_size=1,
        status=Video.READY,
        duration_ms=5000,
        width=1080,
        height=1920,
        aspect_ratio="9:16",
        codec="h264",
    )
    video.thumbnail_key = video.storage_key.replace(".mp4", ".thumb.jpg")
    storage().save(video.thumbnail_key, io.BytesIO(b"\xff\xd8\xff\xe0sweep"))
    db.session.add(video)
    db.session.flush()
    return video


def _post(org, user):
    from webapp.studio.models import Post, PublishJob

    post = Post(
        organization_id=org.id,
        created_by_id=user.id,
        video_id=_video(org, user).id,
        caption="Sweep",
        status=Post.DRAFT,
        scheduled_at=utcnow(),
        timezone=org.timezone or "UTC",
    )
    post.targets.append(
        PublishJob(
            organization_id=org.id,
            created_by_id=user.id,
            platform="TIKTOK",
            status=PublishJob.DRAFT,
            options={"privacy_level": "SELF_ONLY"},
        )
    )
    db.session.add(post)
    db.session.flush()
    return post


def video_id(org, user) -> int:
    video = _video(org, user)
    db.session.commit()
    return video.id


def post_id(org, user) -> int:
    post = _post(org, user)
    db.session.commit()
    return post.id


def target_id(org, user) -> int:
    post = _post(org, user)
    db.session.commit()
    return post.targets[0].id


def connection_id(org, user) -> int:
    from webapp.integrations.models import Connection

    conn = Connection(
        organization_id=org.id,
        created_by_id=user.id,
        provider="tiktok",
        account_id=f"sweep-{secrets.token_hex(4)}",
        account_name="sweep",
        status=Connection.CONNECTED,
    )
    db.session.add(conn)
    db.session.commit()
    return conn.id


def group_id(org, user) -> int:
    from webapp.studio.models import HashtagGroup

    group = HashtagGroup(organization_id=org.id, created_by_id=user.id, name="Sweep group", hashtags=["sweep"])
    db.session.add(group)
    db.session.commit()
    return group.id


def slot_id(org, user) -> int:
    from webapp.studio.models import QueueSlot

    slot = QueueSlot(organization_id=org.id, weekday=0, minute=9 * 60)
    db.session.add(slot)
    db.session.commit()
    return slot.id


SAMPLES = {
    "video_id": video_id,
    "post_id": post_id,
    "target_id": target_id,
    "connection_id": connection_id,
    "slot_id": slot_id,
    "group_id": group_id,
}
