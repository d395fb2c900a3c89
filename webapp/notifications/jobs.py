"""Cleanup of live connections that went silent."""

from __future__ import annotations

from webapp.jobs import job, periodic
from webapp.notifications import live


@periodic("* * * * *")
@job(queue="maintenance", retries=1)
def close_silent_sessions() -> int:
    return live.close_silent()


@job(queue="email", retries=3)
def send_daily_digest(user_id: int, day: str) -> int | None:
    """One user's digest for ``day`` (ISO date); safe to run twice (one digest per user and day)."""
    from datetime import date

    from webapp.extensions import db
    from webapp.notifications.digest import compose_digest

    sent, answer = compose_digest(user_id, date.fromisoformat(day))
    try:
        db.session.commit()  # the digest, its e-mail and the AI charge together
    finally:
        if answer is not None:
            answer.release()  # refunds the reservation if the charge did not commit
    return sent.id if sent else None


@periodic("0 7 * * *")
@job(queue="maintenance", retries=1)
def send_daily_digests() -> int:
    """Every morning (UTC): a digest job per user who turned the daily digest on."""
    from webapp.core.models import utcnow
    from webapp.notifications.digest import digest_due_users

    day = utcnow().date().isoformat()
    users = digest_due_users()
    for user_id in users:
        send_daily_digest.delay(user_id, day)
    return len(users)
