"""Posts: compose (video, caption, hashtags, per-platform targets), validate per platform, save as
draft, schedule, post now, reschedule, cancel; the post's status rolls up from its targets.

Times: the creator picks a wall-clock time in the organization's zone; it is stored in UTC with the
IANA zone kept on the post, so a post planned for 10:00 stays at 10:00 across a DST change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.audit import record
from webapp.core.errors import Conflict, DomainError
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.models import Connection
from webapp.settings import get
from webapp.studio.models import (
    INSTAGRAM,
    PLATFORM_LABELS,
    PLATFORMS,
    PROVIDER_OF,
    TIKTOK,
    YOUTUBE,
    Post,
    PublishJob,
    Video,
)
from webapp.studio.services import versions

TIKTOK_PRIVACY = {
    "PUBLIC_TO_EVERYONE": _l("Everyone"),
    "MUTUAL_FOLLOW_FRIENDS": _l("Friends"),
    "FOLLOWER_OF_CREATOR": _l("Followers"),
    "SELF_ONLY": _l("Only me"),
}
YOUTUBE_PRIVACY = ("public", "unlisted", "private")
HASHTAG = re.compile(r"^[\w]{1,100}$", re.UNICODE)


class PostInvalid(DomainError):
    """Several fields may be wrong at once: ``errors`` maps form field → message."""

    def __init__(self, errors: dict[str, str]):
        first = next(iter(errors.values()))
        super().__init__(first, field=next(iter(errors)))
        self.errors = errors


@dataclass
class TargetDraft:
    platform: str
    connection_id: int
    options: dict = field(default_factory=dict)


@dataclass
class PostDraft:
    video_id: int | None
    caption: str
    hashtags: list[str]
    targets: list[TargetDraft]
    when: datetime | None = None  # UTC


def parse_hashtags(text: str) -> list[str]:
    tags: list[str] = []
    for raw in re.split(r"[\s,]+", text or ""):
        tag = raw.strip().lstrip("#")
        if tag and tag.lower() not in {t.lower() for t in tags}:
            tags.append(tag)
    return tags


def local_to_utc(day: date, at: time, zone: str) -> datetime:
    """A wall-clock time in ``zone`` as UTC. A time that does not exist (spring forward) moves forward."""
    tz = ZoneInfo(zone)
    local = datetime.combine(day, at, tzinfo=tz)
    utc = local.astimezone(ZoneInfo("UTC"))
    if utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        local = datetime.combine(day, at, tzinfo=tz) + timedelta(hours=1)
        utc = local.astimezone(ZoneInfo("UTC"))
    return utc


def utc_to_local(value: datetime, zone: str) -> datetime:
    return value.astimezone(ZoneInfo(zone))


def active_connections(org) -> dict[str, list[Connection]]:
    rows = db.session.scalars(
        select(Connection)
        .where(
            Connection.organization_id == org.id,
            Connection.provider.in_(PROVIDER_OF.values()),
            Connection.status == Connection.CONNECTED,
        )
        .order_by(Connection.id)
    )
    out: dict[str, list[Connection]] = {p: [] for p in PLATFORMS}
    for row in rows:
        out[{v: k for k, v in PROVIDER_OF.items()}[row.provider]].append(row)
    return out


def validate(org, draft: PostDraft, *, creator_info: dict | None = None) -> tuple[Video, dict[int, Connection]]:
    """Per-platform checks with one message per form field; raises PostInvalid."""
    errors: dict[str, str] = {}
    video = db.session.scalar(select(Video).where(Video.id == draft.video_id, Video.organization_id == org.id))
    if video is None:
        errors["video_id"] = "Choose a video."
    elif video.status != Video.READY:
        errors["video_id"] = (
            "That video is not ready yet." if video.status == Video.PROCESSING else "That video failed its checks."
        )
    bad = [t for t in draft.hashtags if not HASHTAG.match(t)]
    if bad:
        errors["hashtags"] = (
            f"Hashtags are letters, digits and underscores only: {', '.join('#' + b for b in bad[:3])}."
        )
    if not draft.targets:
        errors["targets"] = "Choose at least one account to post to."
    connections: dict[int, Connection] = {}
    for target in draft.targets:
        p = target.platform
        key = p.lower()
        conn = db.session.scalar(
            select(Connection).where(Connection.id == target.connection_id, Connection.organization_id == org.id)
        )
        if conn is None or conn.provider != PROVIDER_OF[p]:
            errors[f"{key}_account"] = f"Choose a connected {PLATFORM_LABELS[p]} account."
            continue
        if conn.status != Connection.CONNECTED:
            errors[f"{key}_account"] = (
                f"{PLATFORM_LABELS[p]} @{conn.account_name} is not connected; reconnect it first."
            )
            continue
        connections[conn.id] = conn
        bad = [t for t in target.options.get("hashtags") or [] if not HASHTAG.match(t)]
        if bad:
            shown = ", ".join("#" + b for b in bad[:3])
            errors[f"{key}_hashtags"] = f"Hashtags are letters, digits and underscores only: {shown}."
        versions.check(versions.version_of(p, target.options, draft.caption, draft.hashtags), errors)
        limit = {
            TIKTOK: get("studio.tiktok_max_seconds"),
            INSTAGRAM: get("studio.instagram_max_seconds"),
            YOUTUBE: get("studio.youtube_max_seconds"),
        }[p]
        if p == TIKTOK:
            info = (creator_info or {}).get(conn.id) or {}
            limit = min(limit, int(info.get("max_video_post_duration_sec") or limit))
            options = info.get("privacy_level_options") or list(TIKTOK_PRIVACY)
            privacy = target.options.get("privacy_level")
            if not privacy:
                errors["tiktok_privacy"] = "Choose who can see this TikTok video."
            elif privacy not in options:
                errors["tiktok_privacy"] = "This account cannot post with that privacy setting."
            for what in versions.INTERACTIONS:
                if not versions.tiktok_disabled(target.options, what) and info.get(f"{what}_disabled"):
                    name = {"comment": "comments", "duet": "Duet", "stitch": "Stitch"}[what]
                    errors[f"tiktok_allow_{what}"] = f"This account has {name} turned off in TikTok."
        if p == YOUTUBE and target.options.get("privacy") not in YOUTUBE_PRIVACY:
            errors["youtube_privacy"] = "Choose public, unlisted or private."
        if p == INSTAGRAM and video is not None and video.duration_seconds < 3:
            errors["video_id"] = "Instagram Reels must be at least 3 seconds long."
        if video is not None and video.status == Video.READY and video.duration_seconds > limit:
            errors[f"{key}_account"] = (
                f"This video is {video.duration_seconds:.0f} s; {PLATFORM_LABELS[p]} allows {limit} s here."
            )
    if draft.when is not None and draft.when < utcnow() - timedelta(minutes=1):
        errors["schedule_date"] = "Pick a time in the future (or use Post now)."
    if errors or video is None:  # no video is an error above
        raise PostInvalid(errors)
    return video, connections


def save_post(org, user, draft: PostDraft, action: str, *, post: Post | None = None, creator_info=None) -> Post:
    """``action``: draft, schedule or now. Creates or updates the post and its targets."""
    if action not in ("draft", "schedule", "now"):
        raise DomainError("Unknown action.")
    if action == "schedule" and draft.when is None:
        raise PostInvalid({"schedule_date": "Pick a date and time to schedule."})
    if action == "now":
        draft.when = utcnow()
    if action == "draft" and draft.when is None and post is not None:
        draft.when = post.scheduled_at
    video, _ = validate(org, draft, creator_info=creator_info)
    from webapp.studio.services import approvals

    gated = action != "draft" and approvals.required_for(org, user)
    if post is None:
        post = Post(organization_id=org.id, created_by_id=getattr(user, "id", None))
        db.session.add(post)
    else:
        _require_editable(post)
    post.video_id = video.id  # the draft's video, found in the organization
    post.caption = draft.caption.strip()
    post.hashtags = draft.hashtags
    post.timezone = org.timezone or "UTC"
    post.scheduled_at = draft.when
    by_platform = {t.platform: t for t in post.targets}
    wanted = {t.platform for t in draft.targets}
    for platform, existing in by_platform.items():
        if platform not in wanted:
            post.targets.remove(existing)
    status = PublishJob.DRAFT if action == "draft" else PublishJob.PENDING
    for target in draft.targets:
        job = by_platform.get(target.platform)
        if job is None:
            job = PublishJob(organization_id=org.id, created_by_id=post.created_by_id, platform=target.platform)
            post.targets.append(job)
        job.connection_id = target.connection_id
        job.options = target.options
        job.status = status
        job.scheduled_for = draft.when
        job.due_at = draft.when
        job.error_message = job.error_kind = None
    db.session.flush()
    if action == "draft":
        if post.approval != Post.APPROVAL_REJECTED:  # a rejected draft keeps its comment until resubmitted
            post.approval = None
    elif not gated:
        post.approval = None  # scheduled by someone who needs no approval
    if action != "draft":
        post.queued = False  # a time picked by hand takes it out of the posting queue
    rollup(post)
    record(
        user,
        f"post.{'drafted' if action == 'draft' else 'scheduled'}",
        post,
        {"platforms": sorted(wanted), "at": draft.when.isoformat() if draft.when else None, "action": action},
    )
    if gated:
        # Post now by a member: no time, it goes out as soon as it is approved.
        approvals.submit(post, user, None if action == "now" else draft.when)
    elif action != "draft":
        _enqueue_targets(post)
    return post


def _require_editable(post: Post) -> None:
    if any(t.status in (PublishJob.ACTIVE, PublishJob.COMPLETED) or t.irreversible_at for t in post.targets):
        raise Conflict("Publishing has started for this post; it can no longer be edited.", code="post_started")


def _enqueue_targets(post: Post) -> None:
    from webapp.studio.jobs import publish_target

    for job in post.targets:
        if job.status == PublishJob.PENDING and job.due_at is not None:
            if job.due_at <= utcnow():
                publish_target.delay(job.id)
            else:
                publish_target.delay(job.id, at=job.due_at)


def reschedule(post: Post, user, when: datetime) -> Post:
    if post.status not in (Post.SCHEDULED, Post.DRAFT, Post.NEEDS_APPROVAL):
        raise Conflict("Only scheduled or draft posts can be moved.", code="post_not_movable")
    _require_editable(post)
    if when < utcnow() - timedelta(minutes=1):
        raise DomainError("Pick a time in the future.", field="schedule_date")
    from webapp.studio.services import approvals

    post.queued = False  # moved by hand: out of the posting queue
    if post.status != Post.DRAFT and approvals.required_for(post_org(post), user):
        # A member moving a scheduled (or approved) post: the new time waits for approval again.
        old = post.scheduled_at
        record(user, "post.rescheduled", post, {"from": old.isoformat() if old else None, "to": when.isoformat()})
        approvals.submit(post, user, when)
        return post
    old = post.scheduled_at
    post.scheduled_at = when
    for job in post.targets:
        if job.status in (PublishJob.PENDING, PublishJob.DELAYED, PublishJob.DRAFT):
            job.scheduled_for = when
            job.due_at = when
            if job.status == PublishJob.DELAYED:
                job.status = PublishJob.PENDING
    db.session.flush()
    record(user, "post.rescheduled", post, {"from": old.isoformat() if old else None, "to": when.isoformat()})
    _enqueue_targets(post)
    return post


def move_to_day(post: Post, user, day: date) -> Post:
    """Drag-and-drop on the calendar: same wall-clock time in the post's zone, another day."""
    zone = post.timezone or "UTC"
    current = (
        utc_to_local(post.scheduled_at, zone)
        if post.scheduled_at
        else datetime.now(ZoneInfo(zone)).replace(hour=12, minute=0)
    )
    return reschedule(post, user, local_to_utc(day, current.time().replace(second=0, microsecond=0), zone))


def post_org(post: Post):
    from webapp.orgs.models import Organization

    return db.session.get(Organization, post.organization_id)


def cancel(post: Post, user) -> Post:
    if post.status not in (Post.SCHEDULED, Post.DRAFT, Post.NEEDS_APPROVAL):
        raise Conflict("Only scheduled or draft posts can be cancelled.", code="post_not_cancellable")
    _require_editable(post)
    for job in post.targets:
        if job.status in (PublishJob.PENDING, PublishJob.DELAYED, PublishJob.DRAFT):
            job.status = PublishJob.CANCELLED
            job.due_at = None
    if post.approval == Post.APPROVAL_PENDING:
        post.approval = None
    post.queued = False
    rollup(post)
    record(user, "post.cancelled", post, {})
    return post


def retry_target(job: PublishJob, user, *, checked: bool = False) -> PublishJob:
    """ "Retry this platform": only this target goes back to the queue, due now.

    A target whose outcome is unknown (the platform may have published it) is retried only when the
    creator says they checked the account (``checked``)."""
    if job.status != PublishJob.FAILED:
        raise Conflict("Only a failed platform can be retried.", code="target_not_failed")
    if job.outcome_unknown and not checked:
        raise Conflict(
            f"{job.platform_label} may have published this already. Check the account, then confirm the retry.",
            code="check_account",
        )
    job.status = PublishJob.PENDING
    job.due_at = utcnow()
    job.error_message = job.error_kind = None
    job.outcome_unknown = False
    job.irreversible_at = None
    job.remote = {}
    job.step = ""
    job.polls = 0
    job.claim_token = None
    job.failed_at = None
    rollup(job.post)
    record(user, "post.target_retried", job.post, {"platform": job.platform, "checked": checked})
    from webapp.studio.jobs import publish_target

    publish_target.delay(job.id)
    return job


def rollup(post: Post) -> str:
    """scheduled, publishing, published, partial, failed — from the targets (cancelled ones aside)."""
    statuses = [t.status for t in post.targets if t.status != PublishJob.CANCELLED]
    if not post.targets:
        new = Post.DRAFT
    elif not statuses:
        new = Post.CANCELLED
    elif all(s == PublishJob.DRAFT for s in statuses):
        new = Post.DRAFT
    elif PublishJob.ACTIVE in statuses:
        new = Post.PUBLISHING
    elif any(s in (PublishJob.PENDING, PublishJob.DELAYED) for s in statuses):
        done = any(s in (PublishJob.COMPLETED, PublishJob.FAILED) for s in statuses)
        new = Post.PUBLISHING if done else Post.SCHEDULED
    elif all(s == PublishJob.COMPLETED for s in statuses):
        new = Post.PUBLISHED
    elif all(s == PublishJob.FAILED for s in statuses):
        new = Post.FAILED
    else:
        new = Post.PARTIAL
    if new == Post.DRAFT and post.approval == Post.APPROVAL_PENDING:
        new = Post.NEEDS_APPROVAL  # its targets stay DRAFT until an owner or admin approves
    post.status = new
    return new
