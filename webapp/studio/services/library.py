"""The video library: the organization's videos searched by name, sorted by size, length or use, with
the posts each one is in (a video can be reused in any number of posts)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Select, func, or_, select

from webapp.core.terms import N_
from webapp.extensions import db
from webapp.studio.models import Post, PublishedPost, Video

# Shown through ``_()`` on the page (the names are in the catalogue through ``N_``).
SORTS = {
    "newest": N_("Newest first"),
    "oldest": N_("Oldest first"),
    "name": N_("Name"),
    "largest": N_("Largest"),
    "longest": N_("Longest"),
    "most_used": N_("Most used"),
}
STATUSES = (Video.READY, Video.PROCESSING, Video.FAILED)
MAX_QUERY = 100
SHOWN_POSTS = 3  # per row; the video's page lists them all


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(org, q: str = "", status: str | None = None, sort: str = "newest") -> Select:
    """Rows of (video, posts using it, platform posts published from it)."""
    posts = select(func.count(Post.id)).where(Post.video_id == Video.id).correlate(Video).scalar_subquery()
    published = (
        select(func.count(PublishedPost.id))
        .where(PublishedPost.video_id == Video.id)
        .correlate(Video)
        .scalar_subquery()
    )
    stmt = select(Video, posts.label("posts"), published.label("published")).where(Video.organization_id == org.id)
    q = (q or "").strip()[:MAX_QUERY]
    if q:
        pattern = _like(q)
        named = Video.title.ilike(pattern, escape="\\")
        stmt = stmt.where(or_(named, Video.original_filename.ilike(pattern, escape="\\")))
    if status in STATUSES:
        stmt = stmt.where(Video.status == status)
    order = {
        "oldest": (Video.id.asc(),),
        "name": (func.lower(Video.title), Video.id),
        "largest": (Video.file_size.desc(), Video.id.desc()),
        "longest": (Video.duration_ms.desc().nulls_last(), Video.id.desc()),
        "most_used": (posts.desc(), Video.id.desc()),
    }.get(sort, (Video.id.desc(),))
    return stmt.order_by(*order)


def posts_of(video_ids: list[int], limit: int | None = SHOWN_POSTS) -> dict[int, list[Post]]:
    """The newest posts using each video (``limit`` each; None for all)."""
    if not video_ids:
        return {}
    rows = db.session.scalars(select(Post).where(Post.video_id.in_(video_ids)).order_by(Post.id.desc())).all()
    out: dict[int, list[Post]] = defaultdict(list)
    for post in rows:
        if limit is None or len(out[post.video_id]) < limit:
            out[post.video_id].append(post)
    return out
