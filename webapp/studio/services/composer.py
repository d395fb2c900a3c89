"""Between the composer form and the post rules: choices, creator info, form ↔ draft."""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import date

from sqlalchemy import select
from wtforms import SelectChoice

from webapp.core.parsing import int_or_none
from webapp.integrations.oauth import ConnectionUnavailable
from webapp.integrations.providers import tiktok
from webapp.integrations.providers.client import ProviderClient, ProviderError
from webapp.studio.models import INSTAGRAM, PLATFORMS, TIKTOK, YOUTUBE, Post, Video
from webapp.studio.services.posts import (
    TIKTOK_PRIVACY,
    PostDraft,
    TargetDraft,
    active_connections,
    local_to_utc,
    parse_hashtags,
    utc_to_local,
)

log = logging.getLogger(__name__)


def tiktok_creator_info(org) -> dict[int, dict]:
    """creator_info/query for each connected TikTok account (TikTok requires it when composing)."""
    out = {}
    for conn in active_connections(org)[TIKTOK]:
        try:
            with ProviderClient("tiktok", org_id=org.id, timeout=10) as client:
                out[conn.id] = tiktok.creator_info(conn, client)
        except (ProviderError, ConnectionUnavailable) as error:
            log.info("creator_info for connection %s failed: %s", conn.id, error)
    return out


def form_choices(org, form, info) -> None:
    from webapp.extensions import db

    ready = db.session.scalars(
        select(Video).where(Video.organization_id == org.id, Video.status == Video.READY).order_by(Video.id.desc())
    ).all()
    form.video_id.choices = [SelectChoice(0, "Choose a video…")] + [
        SelectChoice(v.id, f"{v.title} ({v.duration_seconds:.0f} s)") for v in ready
    ]
    conns = active_connections(org)
    for platform in PLATFORMS:
        field = getattr(form, f"{platform.lower()}_account")
        field.choices = [SelectChoice("", "Don't post here")] + [
            SelectChoice(str(c.id), f"@{c.account_name}") for c in conns[platform]
        ]
    options = None
    for item in (info or {}).values():
        options = item.get("privacy_level_options") or options
    if options:
        form.tiktok_privacy.choices = [SelectChoice("", "Choose…")] + [
            SelectChoice(o, TIKTOK_PRIVACY.get(o, o)) for o in options
        ]


def fill_form(org, form, post: Post | None, args) -> None:
    if post is None:
        if int_or_none(args.get("video_id")) is not None:
            form.video_id.data = int_or_none(args["video_id"])
        with suppress(ValueError):  # no day, or not a day: leave it empty
            form.schedule_date.data = date.fromisoformat(args.get("date", ""))
        form.instagram_share_to_feed.data = True
        return
    form.video_id.data = post.video_id
    form.caption.data = post.caption
    form.hashtags.data = " ".join(f"#{t}" for t in post.hashtags or [])
    if post.scheduled_at:
        local = utc_to_local(post.scheduled_at, post.timezone)
        form.schedule_date.data, form.schedule_time.data = local.date(), local.time().replace(second=0, microsecond=0)
    for job in post.targets:
        key = job.platform.lower()
        getattr(form, f"{key}_account").data = str(job.connection_id or "")
        o = job.options or {}
        if job.platform == TIKTOK:
            form.tiktok_privacy.data = o.get("privacy_level", "")
            form.tiktok_allow_comment.data = o.get("allow_comment", False)
            form.tiktok_allow_duet.data = o.get("allow_duet", False)
            form.tiktok_allow_stitch.data = o.get("allow_stitch", False)
            form.tiktok_caption.data = o.get("caption", "")
        elif job.platform == INSTAGRAM:
            form.instagram_caption.data = o.get("caption", "")
            form.instagram_share_to_feed.data = o.get("share_to_feed", True)
        elif job.platform == YOUTUBE:
            form.youtube_title.data = o.get("title", "")
            form.youtube_description.data = o.get("description", "")
            form.youtube_privacy.data = o.get("privacy", "public")


def draft_from_form(org, form) -> PostDraft:
    targets = []
    for platform in PLATFORMS:
        key = platform.lower()
        value = getattr(form, f"{key}_account").data or ""
        if int_or_none(str(value)) is None:
            continue
        if platform == TIKTOK:
            options = {
                "privacy_level": form.tiktok_privacy.data or "",
                "allow_comment": bool(form.tiktok_allow_comment.data),
                "allow_duet": bool(form.tiktok_allow_duet.data),
                "allow_stitch": bool(form.tiktok_allow_stitch.data),
                "caption": (form.tiktok_caption.data or "").strip(),
            }
        elif platform == INSTAGRAM:
            options = {
                "caption": (form.instagram_caption.data or "").strip(),
                "share_to_feed": bool(form.instagram_share_to_feed.data),
            }
        else:
            options = {
                "title": (form.youtube_title.data or "").strip(),
                "description": (form.youtube_description.data or "").strip(),
                "privacy": form.youtube_privacy.data,
            }
        targets.append(TargetDraft(platform, int(value), options))
    when = None
    if form.schedule_date.data and form.schedule_time.data:
        when = local_to_utc(form.schedule_date.data, form.schedule_time.data, org.timezone or "UTC")
    return PostDraft(
        video_id=form.video_id.data or None,
        caption=form.caption.data or "",
        hashtags=parse_hashtags(form.hashtags.data or ""),
        targets=targets,
        when=when,
    )
