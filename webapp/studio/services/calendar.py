"""Calendar views in the organization's time zone: month grid, week, and a filtered list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.studio.models import Post, PublishJob


@dataclass
class Day:
    date: date
    in_month: bool
    posts: list


def _month_title(first: date) -> str:
    """ "December 2026"; "2026年12月" on a Japanese page."""
    from webapp.core.i18n import is_english, language

    if is_english():
        return first.strftime("%B %Y")
    from babel.dates import format_date

    return format_date(first, "yyyy年M月", locale=language())


def _week_title(start: date) -> str:
    """ "Week of 7 December 2026"; "2026年12月7日の週" on a Japanese page."""
    from webapp.core.i18n import is_english, language

    if is_english():
        return f"Week of {start.strftime('%-d %B %Y')}"
    from babel.dates import format_date
    from flask_babel import gettext

    return gettext("Week of %(date)s", date=format_date(start, "yyyy年M月d日", locale=language()))


def _range_utc(first: date, last: date, zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    start = datetime.combine(first, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    return start, end


def posts_between(org, start: datetime, end: datetime, *, status: str | None = None, platform: str | None = None):
    stmt = (
        select(Post)
        .where(Post.organization_id == org.id, Post.scheduled_at >= start, Post.scheduled_at < end)
        .options(selectinload(Post.targets))
        .order_by(Post.scheduled_at, Post.id)
    )
    if status:
        stmt = stmt.where(Post.status == status)
    if platform:
        stmt = stmt.where(Post.id.in_(select(PublishJob.post_id).where(PublishJob.platform == platform)))
    return list(db.session.scalars(stmt))


def _bucket(posts, zone: str) -> dict[date, list]:
    tz = ZoneInfo(zone)
    out: dict[date, list] = {}
    for post in posts:
        out.setdefault(post.scheduled_at.astimezone(tz).date(), []).append(post)
    return out


def month(org, anchor: date, **filters) -> dict:
    zone = org.timezone or "UTC"
    first = anchor.replace(day=1)
    grid_start = first - timedelta(days=first.weekday())
    next_month = (first + timedelta(days=32)).replace(day=1)
    last = next_month - timedelta(days=1)
    grid_end = last + timedelta(days=6 - last.weekday())
    by_day = _bucket(posts_between(org, *_range_utc(grid_start, grid_end, zone), **filters), zone)
    days = []
    d = grid_start
    while d <= grid_end:
        days.append(Day(d, d.month == first.month, by_day.get(d, [])))
        d += timedelta(days=1)
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    prev_month = (first - timedelta(days=1)).replace(day=1)
    return {"weeks": weeks, "title": _month_title(first), "prev": prev_month, "next": next_month, "start": first}


def week(org, anchor: date, **filters) -> dict:
    zone = org.timezone or "UTC"
    start = anchor - timedelta(days=anchor.weekday())
    end = start + timedelta(days=6)
    by_day = _bucket(posts_between(org, *_range_utc(start, end, zone), **filters), zone)
    days = [Day(start + timedelta(days=i), True, by_day.get(start + timedelta(days=i), [])) for i in range(7)]
    return {
        "weeks": [days],
        "title": _week_title(start),
        "prev": start - timedelta(days=7),
        "next": start + timedelta(days=7),
        "start": start,
    }


def listing(org, *, status: str | None = None, platform: str | None = None, limit: int = 200):
    stmt = select(Post).where(Post.organization_id == org.id).options(selectinload(Post.targets))
    if status:
        stmt = stmt.where(Post.status == status)
    if platform:
        stmt = stmt.where(Post.id.in_(select(PublishJob.post_id).where(PublishJob.platform == platform)))
    stmt = stmt.order_by(Post.scheduled_at.desc().nulls_last(), Post.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def today_in(org) -> date:
    return datetime.now(ZoneInfo(org.timezone or "UTC")).date()
