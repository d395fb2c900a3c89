"""Live connections (seed 003 ``WebSocketSession``): one row per open event stream.

A stream records itself when it opens, touches ``last_seen_at`` at every heartbeat, and closes its
row when the client goes away; a periodic job closes rows that went silent (a killed process).
The transport itself is ``webapp.notifications.streaming`` (an ASGI endpoint: no thread per
stream); this module holds what both transports share: who may open a stream, the rows, the cap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import render_template
from sqlalchemy import func, select, update

from webapp.core.models import rowcount, utcnow
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
define(
    "notifications.streams_per_user",
    int,
    5,
    "Live streams one account may hold open (more tabs: the oldest stream closes and its tab polls)",
    minimum=1,
)
define("notifications.poll_seconds", int, 60, "Seconds between bell refreshes without a live stream", minimum=5)

CAPPED_MESSAGE = (
    "Live updates are open in {cap} other tabs or windows of this account; this one now refreshes every minute."
)


@dataclass(frozen=True)
class Viewer:
    """Who asked for a stream, resolved inside a request context (cookies, session, membership)."""

    user_id: int
    org_id: int | None
    client_id: str
    user_agent: str


def viewer_of_request() -> Viewer | None:
    """The signed-in viewer of the current request, or None; ``org`` is kept only for a member."""
    import secrets

    from flask import request
    from flask_login import current_user

    from webapp.core.access import load_membership
    from webapp.orgs.models import Organization

    if not current_user.is_authenticated:
        return None
    org_id = request.args.get("org", type=int)
    if org_id is not None:
        org = db.session.get(Organization, org_id)
        org_id = org.id if org is not None and load_membership(org.slug, current_user.id) is not None else None
    client_id = (request.args.get("client") or secrets.token_hex(8))[:64]
    return Viewer(current_user.id, org_id, client_id, request.headers.get("User-Agent", "")[:255])


def count_html(user_id: int, unread: int | None = None) -> str:
    """The bell's badge, on one line (an SSE ``data:`` field)."""
    from webapp.notifications.services import unread_count

    unread = unread_count(user_id) if unread is None else unread
    return render_template("notifications/_count.html", unread=unread).strip().replace("\n", " ")


def sse(event: str, data: str) -> str:
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in data.splitlines() or [""]) + "\n"


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


def touch_many(session_ids: list[int]) -> None:
    """One heartbeat for every stream a process holds: a single UPDATE."""
    if session_ids:
        db.session.execute(
            update(LiveSession)
            .where(LiveSession.id.in_(session_ids), LiveSession.status == LiveSession.OPEN)
            .values(last_seen_at=utcnow())
            .execution_options(synchronize_session=False)
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
    return rowcount(result)


def open_count() -> int:
    return db.session.scalar(select(func.count(LiveSession.id)).where(LiveSession.status == LiveSession.OPEN)) or 0


def recent(limit: int = 100) -> list[LiveSession]:
    return list(db.session.scalars(select(LiveSession).order_by(LiveSession.id.desc()).limit(limit)))
