"""When to post: the organization's own engagement history, per platform, by hour of the week of each
post's publish time in the organization's zone, and the best three hours from it.

Each published post counts with its **first-week figures** (the latest metric snapshot taken within
``FIRST_WEEK`` of publishing), so an old post's long tail does not outweigh a young post; a post younger
than that is left out until its week is over. A slot's score is its posts' views and likes relative to
the platform's averages (1.0 = average), pulled toward 1.0 by ``PRIOR_POSTS`` imaginary average posts
so that one lucky post does not win on its own. With fewer than ``studio.best_times_min_posts`` posts
with figures the platform gets no suggestion, only the count of what is missing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Interval, func, literal, select

from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.models import Connection
from webapp.settings import define, get
from webapp.studio.models import PLATFORM_LABELS, PLATFORMS, PROVIDER_OF, MetricSnapshot, PublishedPost, QueueSlot

define(
    "studio.best_times_min_posts",
    int,
    10,
    "Published posts with first-week figures a platform needs before Studio suggests posting times",
    minimum=1,
    maximum=1000,
)
define(
    "studio.best_times_days",
    int,
    180,
    "How far back the posting-time suggestions look, in days",
    minimum=14,
    maximum=730,
)

FIRST_WEEK = timedelta(days=7)
PRIOR_POSTS = 2
SUGGESTIONS = 3
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SHORT_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HEAT_LEVELS = 5  # heat-0 (no posts) … heat-4 (the busiest cells); CSS classes, no inline style


@dataclass
class Slot:
    weekday: int
    hour: int
    posts: int = 0
    views: int = 0  # totals of the posts' first-week figures
    likes: int = 0
    score: float = 0.0
    level: int = 0

    @property
    def hour_of_week(self) -> int:
        return self.weekday * 24 + self.hour

    @property
    def avg_views(self) -> int:
        return round(self.views / self.posts) if self.posts else 0

    @property
    def avg_likes(self) -> int:
        return round(self.likes / self.posts) if self.posts else 0

    @property
    def day(self) -> str:
        """The weekday in the reader's language ("Monday", "月曜日")."""
        from webapp.core.display import translated

        return translated(WEEKDAYS[self.weekday])

    @property
    def at(self) -> str:
        return f"{self.hour:02d}:00"

    @property
    def label(self) -> str:
        return f"{self.day} {self.at}"

    @property
    def short(self) -> str:
        """Average first-week views for a heat-map cell: "", "940", "1.2k", "15k", "2.3M"."""
        if not self.posts:
            return ""
        v = self.avg_views
        for limit, suffix in ((1_000_000, "M"), (1_000, "k")):
            if v >= limit:
                scaled = v / limit
                return f"{scaled:.1f}{suffix}" if scaled < 10 else f"{round(scaled)}{suffix}"
        return str(v)

    @property
    def description(self) -> str:
        from flask_babel import gettext, ngettext

        from webapp.core.display import count

        if not self.posts:
            return gettext("%(slot)s: no posts", slot=self.label)
        return ngettext(
            "%(slot)s: %(num)s post, %(views)s views and %(likes)s likes on average in the first week",
            "%(slot)s: %(num)s posts, %(views)s views and %(likes)s likes on average in the first week",
            self.posts,
            slot=self.label,
            views=count(self.avg_views),
            likes=count(self.avg_likes),
        )


@dataclass
class PlatformTimes:
    platform: str
    posts: int  # posts with first-week figures
    needed: int
    grid: list[list[Slot]] = field(default_factory=list)  # 7 rows (Monday first) of 24 hours
    suggestions: list[Slot] = field(default_factory=list)
    avg_views: int = 0
    avg_likes: int = 0
    existing: set[tuple[int, int]] = field(default_factory=set)  # (weekday, minute) already posting times
    accounts: list[tuple[int, str]] = field(default_factory=list)  # the platform's connected accounts

    @property
    def label(self) -> str:
        return PLATFORM_LABELS[self.platform]

    @property
    def enough(self) -> bool:
        return self.posts >= self.needed

    @property
    def missing(self) -> int:
        return max(self.needed - self.posts, 0)

    def is_posting_time(self, slot: Slot) -> bool:
        return (slot.weekday, slot.hour * 60) in self.existing


def first_week_figures(org, platform: str, now: datetime | None = None) -> list[tuple[datetime, int, int]]:
    """(published_at, views, likes) of the platform's posts whose first week is over, from the latest
    snapshot taken within that week."""
    now = now or utcnow()
    since = now - timedelta(days=get("studio.best_times_days"))
    latest = (
        select(MetricSnapshot.published_post_id, func.max(MetricSnapshot.taken_at).label("taken_at"))
        .join(PublishedPost, PublishedPost.id == MetricSnapshot.published_post_id)
        .where(
            PublishedPost.organization_id == org.id,
            PublishedPost.platform == platform,
            PublishedPost.published_at >= since,
            PublishedPost.published_at <= now - FIRST_WEEK,
            MetricSnapshot.taken_at <= _week_after(PublishedPost.published_at),
        )
        .group_by(MetricSnapshot.published_post_id)
        .subquery()
    )
    rows = db.session.execute(
        select(PublishedPost.id, PublishedPost.published_at, MetricSnapshot.views, MetricSnapshot.likes)
        .join(MetricSnapshot, MetricSnapshot.published_post_id == PublishedPost.id)
        .join(
            latest,
            (latest.c.published_post_id == MetricSnapshot.published_post_id)
            & (latest.c.taken_at == MetricSnapshot.taken_at),
        )
        .order_by(PublishedPost.id, MetricSnapshot.id)
    ).all()
    # One row per post (two snapshots at the same instant: the later row).
    per_post = {post_id: (published_at, int(views), int(likes)) for post_id, published_at, views, likes in rows}
    return list(per_post.values())


def _week_after(column):
    if db.session.get_bind().dialect.name == "sqlite":  # no interval arithmetic; its datetime() does it
        return func.datetime(column, f"+{FIRST_WEEK.days} days")
    return column + literal(FIRST_WEEK, Interval())


def platform_times(org, platform: str, now: datetime | None = None) -> PlatformTimes:
    zone = ZoneInfo(org.timezone or "UTC")
    figures = first_week_figures(org, platform, now)
    result = PlatformTimes(platform=platform, posts=len(figures), needed=get("studio.best_times_min_posts"))
    grid = [[Slot(d, h) for h in range(24)] for d in range(7)]
    for published_at, views, likes in figures:
        local = published_at.astimezone(zone)
        slot = grid[local.weekday()][local.hour]
        slot.posts += 1
        slot.views += views
        slot.likes += likes
    result.grid = grid
    if not figures:
        return result
    mean_views = sum(f[1] for f in figures) / len(figures)
    mean_likes = sum(f[2] for f in figures) / len(figures)
    result.avg_views, result.avg_likes = round(mean_views), round(mean_likes)
    cells = [s for row in grid for s in row if s.posts]
    for s in cells:
        relative = (_ratio(s.views, s.posts * mean_views) + _ratio(s.likes, s.posts * mean_likes)) / 2
        s.score = (relative * s.posts + PRIOR_POSTS) / (s.posts + PRIOR_POSTS)
    top = max(s.avg_views for s in cells) or 1
    for s in cells:
        s.level = max(1, min(HEAT_LEVELS - 1, -(-s.avg_views * (HEAT_LEVELS - 1) // top)))
    if result.enough:
        ranked = sorted(cells, key=lambda s: (-s.score, -s.posts, s.hour_of_week))
        result.suggestions = [s for s in ranked if s.score > 1.0][:SUGGESTIONS]
    return result


def _ratio(total: float, expected: float) -> float:
    return total / expected if expected else 1.0


def best_times(org, now: datetime | None = None) -> list[PlatformTimes]:
    """Every platform, in the usual order, with the queue's current posting times marked."""
    rows = db.session.execute(select(QueueSlot.weekday, QueueSlot.minute).where(QueueSlot.organization_id == org.id))
    existing = {(weekday, minute) for weekday, minute in rows}
    accounts = db.session.execute(
        select(Connection.id, Connection.provider, Connection.account_name)
        .where(
            Connection.organization_id == org.id,
            Connection.provider.in_(PROVIDER_OF.values()),
            Connection.status == Connection.CONNECTED,
        )
        .order_by(Connection.id)
    ).all()
    out = []
    for platform in PLATFORMS:
        times = platform_times(org, platform, now)
        times.existing = existing
        times.accounts = [(i, f"@{name}") for i, provider, name in accounts if provider == PROVIDER_OF[platform]]
        out.append(times)
    return out
