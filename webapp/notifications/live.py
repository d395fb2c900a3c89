"""Live connections (seed 003 ``WebSocketSession``): one row per open event stream.

A stream records itself when it opens, touches ``last_seen_at`` at every heartbeat, and closes its
row when the client goes away; a periodic job closes rows that went silent (a killed process)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.notifications.models import LiveSession
from webapp.settings import define, get

define("notifications.heartbeat_seconds", int, 15, "Seconds between keep-alive messages on a live stream", minimum=1)
define(
    "notifications.silent_after_seconds",
    int,
    90,
    "A live connection not heard from for this long is closed by the cleanup job",
    minimum=5,
)


def open_session(user_id: int, org_id: int | None, client_id: str, user_agent: str = "") -> LiveSession:
    row = LiveSession(
        user_id=user_id, organization_id=org_id, client_id=client_id[:64], user_agent=(user_agent or "")[:255]
    )
    db.session.add(row)
    db.session.flush()
    return row


def touch(session_id: int) -> None:
    db.session.execute(
        update(LiveSession)
        .where(LiveSession.id == session_id, LiveSession.status == LiveSession.OPEN)
        .values(last_seen_at=utcnow())
    )


def close_session(session_id: int) -> None:
    now = utcnow()
    db.session.execute(
        update(LiveSession)
        .where(LiveSession.id == session_id, LiveSession.status == LiveSession.OPEN)
        .values(status=LiveSession.CLOSED, closed_at=now, last_seen_at=now)
    )


def close_silent() -> int:
    """Mark open rows that stopped answering as STALE; returns how many."""
    cutoff = utcnow() - timedelta(seconds=get("notifications.silent_after_seconds"))
    result = db.session.execute(
        update(LiveSession)
        .where(LiveSession.status == LiveSession.OPEN, LiveSession.last_seen_at < cutoff)
        .values(status=LiveSession.STALE, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def open_count() -> int:
    return db.session.scalar(select(func.count(LiveSession.id)).where(LiveSession.status == LiveSession.OPEN)) or 0


def recent(limit: int = 100) -> list[LiveSession]:
    return list(db.session.scalars(select(LiveSession).order_by(LiveSession.id.desc()).limit(limit)))
