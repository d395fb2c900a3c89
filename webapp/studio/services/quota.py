"""YouTube quota per Pacific quota day, counted atomically in the database.

Google resets the Data API quota at midnight Pacific time. Uploads and other calls are counted in
separate buckets whose costs and daily limits are settings. ``consume`` is one conditional UPDATE
(``used + cost <= limit``), so concurrent workers can never overspend.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from webapp.core.models import rowcount
from webapp.extensions import db
from webapp.settings import get
from webapp.studio.models import YouTubeQuota

PACIFIC = ZoneInfo("America/Los_Angeles")
BUCKETS = {"upload": "studio.youtube_upload_quota", "other": "studio.youtube_other_quota"}


def quota_day(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(PACIFIC).date().isoformat()


def next_reset(now: datetime | None = None) -> datetime:
    """The next midnight in Pacific time, as UTC."""
    local = (now or datetime.now(UTC)).astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=PACIFIC)
    return midnight.astimezone(UTC)


def _ensure_row(day: str, bucket: str, limit: int) -> None:
    if db.session.scalar(select(YouTubeQuota.id).where(YouTubeQuota.date == day, YouTubeQuota.bucket == bucket)):
        return
    try:
        with db.session.begin_nested():
            db.session.add(YouTubeQuota(date=day, bucket=bucket, used=0, limit=limit))
    except IntegrityError:
        pass  # another worker created it first


def consume(bucket: str, cost: int, now: datetime | None = None) -> bool:
    """Spend ``cost`` units today if they fit; True when spent. Flushes (the caller commits)."""
    limit = get(BUCKETS[bucket])
    day = quota_day(now)
    _ensure_row(day, bucket, limit)
    result = db.session.execute(
        update(YouTubeQuota)
        .where(YouTubeQuota.date == day, YouTubeQuota.bucket == bucket, YouTubeQuota.used + cost <= limit)
        .values(used=YouTubeQuota.used + cost, limit=limit)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def usage(now: datetime | None = None) -> dict[str, tuple[int, int]]:
    day = quota_day(now)
    rows = {r.bucket: r for r in db.session.scalars(select(YouTubeQuota).where(YouTubeQuota.date == day))}
    return {b: ((rows[b].used if b in rows else 0), get(key)) for b, key in BUCKETS.items()}
