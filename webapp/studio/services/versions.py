"""Per-platform versions of a post: each target may have its own caption and hashtags (empty: the
post's shared ones), TikTok's privacy level and interaction switches, YouTube's title, description,
tags and privacy status, Instagram's first comment. One place says what each platform receives, so
the composer's checks, the post page's preview and the publishing jobs agree.

Limits, from the platforms' documentation:
- TikTok Content Posting API: ``post_info.title`` (the caption) at most 2,200 UTF-16 code units.
- Instagram Graph API: a caption at most 2,200 characters and 30 hashtags (the first comment is held
  to the same limits).
- YouTube Data API ``videos`` resource: ``snippet.title`` at most 100 characters, ``description`` at
  most 5,000 bytes, neither with ``<`` or ``>``; ``tags`` at most 500 characters in all (a tag with a
  space counts its quotes, tags are separated by commas); YouTube ignores every hashtag of a video
  that has more than 15.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from webapp.audit import record
from webapp.core.errors import Conflict, DomainError
from webapp.extensions import db
from webapp.studio.models import INSTAGRAM, PLATFORM_LABELS, TIKTOK, YOUTUBE, HashtagGroup

CAPTION_MAX = {TIKTOK: 2200, INSTAGRAM: 2200, YOUTUBE: 5000}
# How each platform counts: TikTok in UTF-16 code units, Instagram in characters, YouTube descriptions in bytes.
CAPTION_UNIT = {TIKTOK: "utf16", INSTAGRAM: "chars", YOUTUBE: "bytes"}
HASHTAGS_MAX = {TIKTOK: 30, INSTAGRAM: 30, YOUTUBE: 15}
YOUTUBE_TITLE_MAX = 100
YOUTUBE_TAGS_MAX = 500
FIRST_COMMENT_MAX = 2200
GROUPS_MAX = 100
GROUP_TAGS_MAX = 30
# What the composer's counters show (the same numbers the checks below use).
LIMITS = {
    "caption": CAPTION_MAX,
    "hashtags": HASHTAGS_MAX,
    "youtube_title": YOUTUBE_TITLE_MAX,
    "youtube_tags": YOUTUBE_TAGS_MAX,
    "first_comment": FIRST_COMMENT_MAX,
}
TAG_IN_TEXT = re.compile(r"#\w+", re.UNICODE)
INTERACTIONS = ("comment", "duet", "stitch")


def measure(text: str, unit: str) -> int:
    """Length of ``text`` the way a platform counts it."""
    if unit == "utf16":
        return len(text.encode("utf-16-le")) // 2
    if unit == "bytes":
        return len(text.encode())
    return len(text)


def join_caption(caption: str, tags: list[str]) -> str:
    text = " ".join(f"#{t}" for t in tags)
    return f"{caption}\n\n{text}".strip() if text else caption


def hashtag_count(text: str) -> int:
    return len(TAG_IN_TEXT.findall(text or ""))


def parse_tags(text: str) -> list[str]:
    """YouTube tags, separated by commas (a tag may have spaces); duplicates dropped."""
    tags: list[str] = []
    for raw in (text or "").split(","):
        tag = " ".join(raw.split()).lstrip("#")
        if tag and tag.lower() not in {t.lower() for t in tags}:
            tags.append(tag)
    return tags


def youtube_tags_length(tags: list[str]) -> int:
    """YouTube's count: each tag, plus two for the quotes of a tag with a space, plus the commas."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)


def tiktok_disabled(options: dict, what: str) -> bool:
    """``disable_<what>`` as TikTok names it (posts saved before it was stored say ``allow_<what>``)."""
    if f"disable_{what}" in options:
        return bool(options[f"disable_{what}"])
    return not options.get(f"allow_{what}", False)


@dataclass
class Version:
    """What one platform target receives."""

    platform: str
    caption: str  # the caption before hashtags (the shared one unless this target has its own)
    hashtags: list[str]
    own_caption: bool = False
    own_hashtags: bool = False
    title: str = ""  # YouTube
    tags: list[str] = field(default_factory=list)  # YouTube
    privacy: str = ""  # TikTok privacy_level / YouTube privacyStatus
    interactions: dict = field(default_factory=dict)  # TikTok disable_comment / _duet / _stitch
    share_to_feed: bool = True  # Instagram
    first_comment: str = ""  # Instagram

    @property
    def label(self) -> str:
        return PLATFORM_LABELS[self.platform]

    @property
    def text(self) -> str:
        """The caption as sent: the caption with its hashtags (YouTube: the description)."""
        return join_caption(self.caption, self.hashtags)

    @property
    def limit(self) -> int:
        return CAPTION_MAX[self.platform]

    @property
    def length(self) -> int:
        return measure(self.text, CAPTION_UNIT[self.platform])


def version_of(platform: str, options: dict | None, caption: str, hashtags: list[str] | None) -> Version:
    o = options or {}
    own_caption = bool((o.get("caption") or "").strip())
    own_tags = o.get("hashtags") is not None and len(o.get("hashtags") or []) > 0
    v = Version(
        platform=platform,
        caption=(o.get("caption") or "").strip() if own_caption else (caption or ""),
        hashtags=list(o["hashtags"]) if own_tags else list(hashtags or []),
        own_caption=own_caption,
        own_hashtags=own_tags,
    )
    if platform == TIKTOK:
        v.privacy = o.get("privacy_level") or ""
        v.interactions = {f"disable_{w}": tiktok_disabled(o, w) for w in INTERACTIONS}
    elif platform == INSTAGRAM:
        v.share_to_feed = bool(o.get("share_to_feed", True))
        v.first_comment = (o.get("first_comment") or "").strip()
    elif platform == YOUTUBE:
        v.title = (o.get("title") or "").strip()
        description = (o.get("description") or "").strip()
        if description:
            v.caption, v.own_caption = description, True
        v.tags = list(o.get("tags") or []) or list(v.hashtags)
        v.privacy = o.get("privacy") or "private"
    return v


def version_for_job(job) -> Version:
    post = job.post
    return version_of(job.platform, job.options, post.caption, post.hashtags)


def check(version: Version, errors: dict[str, str]) -> None:
    """The platform's limits on one version; a message per form field into ``errors``."""
    p, key, label = version.platform, version.platform.lower(), version.label
    caption_field = "youtube_description" if p == YOUTUBE else (f"{key}_caption" if version.own_caption else "caption")
    tags_field = f"{key}_hashtags" if version.own_hashtags else "hashtags"
    unit = {"utf16": "characters", "chars": "characters", "bytes": "bytes"}[CAPTION_UNIT[p]]
    if version.length > version.limit:
        what = "descriptions" if p == YOUTUBE else "captions"
        errors.setdefault(
            caption_field,
            f"{label} {what} are at most {version.limit:,} {unit} with the hashtags; this one has {version.length:,}.",
        )
    count = hashtag_count(version.text)
    if count > HASHTAGS_MAX[p]:
        errors.setdefault(tags_field, f"{label} allows at most {HASHTAGS_MAX[p]} hashtags; this has {count}.")
    if p == YOUTUBE:
        if not version.title:
            errors.setdefault("youtube_title", "YouTube needs a title.")
        elif len(version.title) > YOUTUBE_TITLE_MAX:
            errors.setdefault(
                "youtube_title",
                f"YouTube titles are at most {YOUTUBE_TITLE_MAX} characters; this one has {len(version.title)}.",
            )
        elif "<" in version.title or ">" in version.title:
            errors.setdefault("youtube_title", "YouTube titles cannot contain < or >.")
        if "<" in version.text or ">" in version.text:
            errors.setdefault(caption_field, "YouTube descriptions cannot contain < or >.")
        if any("<" in t or ">" in t for t in version.tags):
            errors.setdefault("youtube_tags", "YouTube tags cannot contain < or >.")
        size = youtube_tags_length(version.tags)
        if size > YOUTUBE_TAGS_MAX:
            errors.setdefault(
                "youtube_tags", f"YouTube tags are at most {YOUTUBE_TAGS_MAX} characters in all; these have {size}."
            )
    if p == INSTAGRAM and version.first_comment:
        if len(version.first_comment) > FIRST_COMMENT_MAX:
            errors.setdefault(
                "instagram_first_comment",
                f"The first comment is at most {FIRST_COMMENT_MAX:,} characters; this one has "
                f"{len(version.first_comment):,}.",
            )
        elif hashtag_count(version.first_comment) > HASHTAGS_MAX[INSTAGRAM]:
            errors.setdefault(
                "instagram_first_comment",
                f"Instagram allows at most {HASHTAGS_MAX[INSTAGRAM]} hashtags in a comment; this has "
                f"{hashtag_count(version.first_comment)}.",
            )


# ----------------------------------------------------------------------------- hashtag groups


def groups(org) -> list[HashtagGroup]:
    return list(
        db.session.scalars(
            select(HashtagGroup).where(HashtagGroup.organization_id == org.id).order_by(HashtagGroup.name)
        ).all()
    )


def create_group(org, user, name: str, text: str) -> HashtagGroup:
    from webapp.studio.services.posts import HASHTAG, parse_hashtags

    name = (name or "").strip()
    if not name:
        raise DomainError("Give the group a name.", field="name")
    if len(name) > 80:
        raise DomainError("Names are at most 80 characters.", field="name")
    tags = parse_hashtags(text)
    if not tags:
        raise DomainError("Add at least one hashtag.", field="hashtags")
    bad = [t for t in tags if not HASHTAG.match(t)]
    if bad:
        raise DomainError(
            f"Hashtags are letters, digits and underscores only: {', '.join('#' + b for b in bad[:3])}.",
            field="hashtags",
        )
    if len(tags) > GROUP_TAGS_MAX:
        raise DomainError(f"A group holds at most {GROUP_TAGS_MAX} hashtags; this has {len(tags)}.", field="hashtags")
    existing = groups(org)
    if len(existing) >= GROUPS_MAX:
        raise DomainError(f"At most {GROUPS_MAX} hashtag groups.", field="name")
    if any(g.name.lower() == name.lower() for g in existing):
        raise Conflict("There is already a group with that name.", field="name", code="group_exists")
    group = HashtagGroup(organization_id=org.id, created_by_id=getattr(user, "id", None), name=name, hashtags=tags)
    db.session.add(group)
    db.session.flush()
    record(user, "studio.hashtag_group_created", org, {"group": name, "hashtags": len(tags)}, org=org)
    return group


def delete_group(org, user, group: HashtagGroup) -> None:
    name = group.name
    db.session.delete(group)
    db.session.flush()
    record(user, "studio.hashtag_group_deleted", org, {"group": name}, org=org)


def group_of(org, group_id: int | None) -> HashtagGroup | None:
    if not group_id:
        return None
    return db.session.scalar(
        select(HashtagGroup).where(HashtagGroup.id == group_id, HashtagGroup.organization_id == org.id)
    )
