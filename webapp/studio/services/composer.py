"""Between the composer form and the post rules: choices, creator info, form ↔ draft."""

from __future__ import annotations

import logging
from contextlib import suppress
from datetime import date

from flask_babel import lazy_gettext as _l
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
from webapp.studio.services.versions import group_of, parse_tags, tiktok_disabled

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
    form.video_id.choices = [SelectChoice(0, _l("Choose a video…"))] + [
        SelectChoice(v.id, f"{v.title} ({v.duration_seconds:.0f} s)") for v in ready
    ]
    conns = active_connections(org)
    for platform in PLATFORMS:
        field = getattr(form, f"{platform.lower()}_account")
        field.choices = [SelectChoice("", _l("Don't post here"))] + [
            SelectChoice(str(c.id), f"@{c.account_name}") for c in conns[platform]
        ]
    from webapp.studio.services.versions import groups

    form.hashtag_group.choices = [SelectChoice("", _l("None"))] + [
        SelectChoice(str(g.id), f"{g.name}: {g.text}", render_kw={"data-tags": g.text}) for g in groups(org)
    ]
    options = None
    for item in (info or {}).values():
        options = item.get("privacy_level_options") or options
    if options:
        form.tiktok_privacy.choices = [SelectChoice("", _l("Choose…"))] + [
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
            form.tiktok_allow_comment.data = not tiktok_disabled(o, "comment")
            form.tiktok_allow_duet.data = not tiktok_disabled(o, "duet")
            form.tiktok_allow_stitch.data = not tiktok_disabled(o, "stitch")
            form.tiktok_caption.data = o.get("caption", "")
            form.tiktok_hashtags.data = _tags_text(o.get("hashtags"))
        elif job.platform == INSTAGRAM:
            form.instagram_caption.data = o.get("caption", "")
            form.instagram_hashtags.data = _tags_text(o.get("hashtags"))
            form.instagram_first_comment.data = o.get("first_comment", "")
            form.instagram_share_to_feed.data = o.get("share_to_feed", True)
        elif job.platform == YOUTUBE:
            form.youtube_title.data = o.get("title", "")
            form.youtube_description.data = o.get("description", "")
            form.youtube_hashtags.data = _tags_text(o.get("hashtags"))
            form.youtube_tags.data = ", ".join(o.get("tags") or [])
            form.youtube_privacy.data = o.get("privacy", "public")


def _tags_text(tags) -> str:
    return " ".join(f"#{t}" for t in tags or [])


def draft_from_form(org, form) -> PostDraft:
    targets = []
    for platform in PLATFORMS:
        key = platform.lower()
        value = getattr(form, f"{key}_account").data or ""
        if int_or_none(str(value)) is None:
            continue
        own_tags = parse_hashtags(getattr(form, f"{key}_hashtags").data or "")
        if platform == TIKTOK:
            # TikTok's names (Content Posting API post_info); the form asks "Allow …", as TikTok's UX rules want.
            options = {
                "privacy_level": form.tiktok_privacy.data or "",
                "disable_comment": not form.tiktok_allow_comment.data,
                "disable_duet": not form.tiktok_allow_duet.data,
                "disable_stitch": not form.tiktok_allow_stitch.data,
                "caption": (form.tiktok_caption.data or "").strip(),
            }
        elif platform == INSTAGRAM:
            options = {
                "caption": (form.instagram_caption.data or "").strip(),
                "share_to_feed": bool(form.instagram_share_to_feed.data),
                "first_comment": (form.instagram_first_comment.data or "").strip(),
            }
        else:
            options = {
                "title": (form.youtube_title.data or "").strip(),
                "description": (form.youtube_description.data or "").strip(),
                "tags": parse_tags(form.youtube_tags.data or ""),
                "privacy": form.youtube_privacy.data,
            }
        if own_tags:
            options["hashtags"] = own_tags
        targets.append(TargetDraft(platform, int(value), options))
    when = None
    if form.schedule_date.data and form.schedule_time.data:
        when = local_to_utc(form.schedule_date.data, form.schedule_time.data, org.timezone or "UTC")
    hashtags = parse_hashtags(form.hashtags.data or "")
    group = group_of(org, int_or_none(str(form.hashtag_group.data or "")))
    if group is not None:  # a saved group adds its hashtags to the shared ones
        hashtags = parse_hashtags(" ".join(hashtags + list(group.hashtags)))
    return PostDraft(
        video_id=form.video_id.data or None,
        caption=form.caption.data or "",
        hashtags=hashtags,
        targets=targets,
        when=when,
    )
