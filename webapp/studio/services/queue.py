"""The posting queue: weekly posting times in the organization's zone (shared, or for one platform
account), "Add to queue" at the next free time, reorder (up / down), pause and resume. Changing the
times re-slots every queued post in its current order.

Times are wall-clock times in the zone: a Monday 09:00 slot is 09:00 in winter and in summer (its UTC
moves across a DST change); a time that does not exist that day (spring forward) moves one hour later,
as everywhere in Studio (``posts.local_to_utc``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta

from sqlalchemy import select

from webapp.audit import record
from webapp.core.errors import Conflict, DomainError
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.models import Connection
from webapp.studio.models import PROVIDER_OF, Post, PublishJob, QueueSlot, StudioSettings
from webapp.studio.services import approvals
from webapp.studio.services.posts import _enqueue_targets, _require_editable, local_to_utc, rollup

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
HORIZON_WEEKS = 26  # how far ahead free times are looked for
MAX_SLOTS = 100
QUEUED_STATUSES = (Post.SCHEDULED, Post.NEEDS_APPROVAL)


def slots(org) -> list[QueueSlot]:
    return list(
        db.session.scalars(
            select(QueueSlot)
            .where(QueueSlot.organization_id == org.id)
            .order_by(QueueSlot.weekday, QueueSlot.minute, QueueSlot.connection_id.nulls_first(), QueueSlot.id)
        ).all()
    )


def queued(org) -> list[Post]:
    """What goes out when: the queued posts in order."""
    return list(
        db.session.scalars(
            select(Post)
            .where(Post.organization_id == org.id, Post.queued.is_(True), Post.status.in_(QUEUED_STATUSES))
            .order_by(Post.scheduled_at.nulls_last(), Post.id)
        ).all()
    )


def _connections_of(post: Post) -> set[int]:
    return {t.connection_id for t in post.targets if t.connection_id and t.status != PublishJob.CANCELLED}


def upcoming(org, after: datetime, connection_ids: set[int] | None = None) -> Iterator[datetime]:
    """Posting times after ``after`` (UTC), in order: the shared ones and those of the given accounts."""
    zone = org.timezone or "UTC"
    rows = [s for s in slots(org) if s.connection_id is None or s.connection_id in (connection_ids or set())]
    if not rows:
        return
    from zoneinfo import ZoneInfo

    first = after.astimezone(ZoneInfo(zone)).date()
    for offset in range(HORIZON_WEEKS * 7 + 1):
        day = first + timedelta(days=offset)
        times = sorted(
            {local_to_utc(day, time(s.minute // 60, s.minute % 60), zone) for s in rows if s.weekday == day.weekday()}
        )
        for when in times:
            if when > after:
                yield when


def _taken(org, exclude: set[int]) -> set[datetime]:
    return set(
        db.session.scalars(
            select(Post.scheduled_at).where(
                Post.organization_id == org.id,
                Post.status.in_(QUEUED_STATUSES),
                Post.scheduled_at.is_not(None),
                Post.id.not_in(exclude or {0}),
            )
        )
    )


def _next_free(org, post: Post, after: datetime, taken: set[datetime]) -> datetime:
    for when in upcoming(org, after, _connections_of(post)):
        if when not in taken:
            return when
    raise DomainError("There is no free posting time; add times on the queue page.", code="queue_full")


def _set_time(post: Post, when: datetime) -> None:
    """Move a queued post to ``when`` (its approval state unchanged: the queue is managed by owners
    and admins; a post waiting for approval keeps waiting, at its new time)."""
    post.scheduled_at = when
    for job in post.targets:
        if job.status in (PublishJob.PENDING, PublishJob.DELAYED, PublishJob.DRAFT):
            job.scheduled_for = job.due_at = when
            if job.status == PublishJob.DELAYED:
                job.status = PublishJob.PENDING


def add(org, post: Post, user, *, now: datetime | None = None) -> Post:
    """Put the post at the next free posting time (after the queued ones it does not displace)."""
    if post.status not in (Post.DRAFT, Post.SCHEDULED, Post.NEEDS_APPROVAL):
        raise Conflict("Only a draft or scheduled post can be queued.", code="post_not_queueable")
    _require_editable(post)
    if post.queued and post.status != Post.DRAFT:
        raise Conflict("This post is already in the queue.", code="already_queued")
    if not _connections_of(post):
        raise DomainError("Choose at least one account to post to.")
    now = now or utcnow()
    when = _next_free(org, post, now, _taken(org, {post.id}))
    post.queued = True
    if approvals.required_for(org, user):
        approvals.submit(post, user, when)
    else:
        post.approval = None if post.approval != Post.APPROVAL_APPROVED else post.approval
        _set_time(post, when)
        for job in post.targets:
            if job.status == PublishJob.DRAFT:
                job.status = PublishJob.PENDING
        db.session.flush()
        rollup(post)
        _enqueue_targets(post)
    record(user, "post.queued", post, {"at": when.isoformat()})
    return post


def remove(org, post: Post, user) -> Post:
    """Out of the queue; it stays scheduled at its time (Reschedule or Cancel from the post page)."""
    if not post.queued:
        raise Conflict("This post is not in the queue.", code="not_queued")
    post.queued = False
    record(user, "post.unqueued", post, {})
    return post


def reslot(org, user=None, *, now: datetime | None = None) -> int:
    """Give every queued post, in its current order, the next free posting time from now."""
    now = now or utcnow()
    rows = [p for p in queued(org) if not _started(p)]
    taken = _taken(org, {p.id for p in rows})
    moved = []
    for post in rows:
        when = _next_free(org, post, now, taken)
        taken.add(when)
        if post.scheduled_at != when:
            _set_time(post, when)
            moved.append(post)
    db.session.flush()
    for post in moved:
        _enqueue_targets(post)
    if moved:
        record(user, "studio.queue_reslotted", org, {"moved": len(moved)}, org=org)
    return len(moved)


def _started(post: Post) -> bool:
    return any(t.status in (PublishJob.ACTIVE, PublishJob.COMPLETED) or t.irreversible_at for t in post.targets)


def move(org, post: Post, user, direction: str) -> Post:
    """Swap the post's time with its neighbour's (``up`` earlier, ``down`` later)."""
    if direction not in ("up", "down"):
        raise DomainError("Move up or down.")
    rows = queued(org)
    if post not in rows:
        raise Conflict("This post is not in the queue.", code="not_queued")
    i = rows.index(post)
    j = i - 1 if direction == "up" else i + 1
    if j < 0 or j >= len(rows):
        raise Conflict(f"It is already {'first' if direction == 'up' else 'last'}.", code="queue_edge")
    other = rows[j]
    _require_editable(post)
    _require_editable(other)
    mine, theirs = post.scheduled_at, other.scheduled_at
    if mine is None or theirs is None:  # queued posts are scheduled: never, but a move needs both times
        raise Conflict("This post is not in the queue.", code="not_queued")
    _set_time(post, theirs)
    _set_time(other, mine)
    db.session.flush()
    _enqueue_targets(post)
    _enqueue_targets(other)
    record(user, "post.queue_moved", post, {"direction": direction, "at": theirs.isoformat() if theirs else None})
    return post


def move_to(org, post: Post, user, position: int) -> Post:
    """Drag and drop: the post takes the ``position``-th place (1 = first); the queue's times stay,
    in order, and the posts take them in their new order (what repeated up / down moves would do)."""
    rows = queued(org)
    if post not in rows:
        raise Conflict("This post is not in the queue.", code="not_queued")
    if not isinstance(position, int) or not 1 <= position <= len(rows):
        raise DomainError(f"Choose a place from 1 to {len(rows)}.", field="position", code="bad_position")
    old = rows.index(post)
    new = position - 1
    if old == new:
        raise Conflict("It is already there.", code="queue_same_place")
    order = rows[:old] + rows[old + 1 :]
    order.insert(new, post)
    times = [p.scheduled_at for p in rows if p.scheduled_at is not None]  # queued() lists them by time, in order
    if len(times) != len(rows):  # queued posts are scheduled: never, but each place needs its time
        raise Conflict("A post in the queue has no time.", code="not_queued")
    changed = [(p, when) for p, when in zip(order, times, strict=True) if p.scheduled_at != when]
    for moved, _ in changed:
        _require_editable(moved)
    for moved, when in changed:
        _set_time(moved, when)
    db.session.flush()
    for moved, _ in changed:
        _enqueue_targets(moved)
    record(
        user,
        "post.queue_moved",
        post,
        {"from": old + 1, "to": position, "at": times[new].isoformat()},
    )
    return post


def add_slot(org, user, weekday: int, at: time, connection_id: int | None = None) -> QueueSlot:
    if weekday not in range(7):
        raise DomainError("Choose a day of the week.", field="weekday")
    if connection_id is not None:
        conn = db.session.scalar(
            select(Connection).where(Connection.id == connection_id, Connection.organization_id == org.id)
        )
        if conn is None or conn.provider not in PROVIDER_OF.values():
            raise DomainError("Choose one of your accounts, or all of them.", field="connection_id")
    minute = at.hour * 60 + at.minute
    existing = slots(org)
    if len(existing) >= MAX_SLOTS:
        raise DomainError(f"At most {MAX_SLOTS} posting times.", field="at")
    if any(s.weekday == weekday and s.minute == minute and s.connection_id == connection_id for s in existing):
        raise DomainError("That posting time is already there.", field="at")
    slot = QueueSlot(organization_id=org.id, weekday=weekday, minute=minute, connection_id=connection_id)
    db.session.add(slot)
    db.session.flush()
    record(user, "studio.queue_time_added", org, {"weekday": weekday, "at": at.strftime("%H:%M")}, org=org)
    reslot(org, user)
    return slot


def remove_slot(org, user, slot: QueueSlot) -> None:
    db.session.delete(slot)
    db.session.flush()
    record(user, "studio.queue_time_removed", org, {"weekday": slot.weekday, "minute": slot.minute}, org=org)
    try:
        reslot(org, user)
    except DomainError:
        raise DomainError("Queued posts need that time; add another one before removing it.") from None


def set_paused(org, user, paused: bool) -> StudioSettings:
    row = approvals.settings_row(org)
    if bool(row.queue_paused) == paused:
        raise Conflict("The queue is already paused." if paused else "The queue is already running.", code="same")
    row.queue_paused = paused
    db.session.flush()
    record(user, "studio.queue_paused" if paused else "studio.queue_resumed", org, {}, org=org)
    if not paused:
        reslot(org, user)  # what should have gone out while paused takes the next free times
    return row
