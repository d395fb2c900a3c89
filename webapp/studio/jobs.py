"""Studio jobs: probe uploads, publish targets (RQ enqueue_at plus a claim every minute, so a lost
Redis never loses a post), sweep stuck targets, sync engagement figures."""

from __future__ import annotations

from webapp.core.transaction import commit_progress
from webapp.extensions import db
from webapp.jobs import job, lease, periodic
from webapp.studio.models import PublishJob


@job(queue="default", retries=2)
def probe_video(video_id: int) -> None:
    from webapp.studio.models import Video
    from webapp.studio.services.videos import probe

    video = db.session.get(Video, video_id)
    if video is not None:
        probe(video)


@job(queue="publishing", retries=0, timeout=3600)
def publish_target(job_id: int, token: str | None = None, resume: bool = False) -> str | None:
    """Run the next step of one target. Without a token (the enqueue_at path) it first claims the
    target itself; ``resume`` continues the current attempt (the step before queued this one)."""
    from webapp.studio.services import publishing

    if token is None:
        token = publishing.claim_one(job_id)
        if token is None:
            return None  # not due yet, already taken, or cancelled
    return publishing.run(job_id, token, resume=resume)


@periodic("* * * * *")
@job(queue="publishing", retries=0)
def claim_due_targets() -> int:
    """Every minute: mark missed targets, claim what is due and hand it to workers (targets whose
    worker died are the lease sweeper's: ``recover_lost_target``)."""
    from webapp.studio.services import publishing

    publishing.mark_missed()
    claimed = publishing.claim_due()
    for job_id, token in claimed:
        publish_target.delay(job_id, token)
    return len(claimed)


@periodic("*/5 * * * *")
@job(queue="default", retries=0, timeout=1800)
def sync_engagement() -> int:
    """Views, likes, comments, shares of recent published posts, as often as studio.metrics_sync_minutes."""
    from webapp.studio.services.metrics import sync_due

    return sync_due()


@periodic("47 3 * * *")
@job(queue="maintenance", retries=1, timeout=3600)
def prune_studio_history() -> dict[str, int]:
    """Daily: metric snapshots and publish attempts past their retention settings, in batches (the
    latest snapshot of each published post stays). Running it twice deletes nothing more."""
    from webapp.audit import record
    from webapp.studio.services.retention import prune_history

    deleted = prune_history()
    if any(deleted.values()):
        record(None, "maintenance.studio_history_pruned", None, deleted)
    return deleted


@periodic("53 3 * * *")
@job(queue="maintenance", retries=1, timeout=1800)
def backfill_video_thumbnails() -> int:
    """Daily: a thumbnail for each READY video that has none, and the size of older thumbnails."""
    from webapp.studio.services.videos import backfill_thumbnails

    return backfill_thumbnails()


@periodic("17 * * * *")
@job(queue="integrations", retries=0)
def refresh_instagram_tokens() -> int:
    """Instagram has no refresh token: its 60-day token is exchanged for a fresh one within a week of
    expiry (the framework's hourly refresh covers TikTok and YouTube)."""
    from sqlalchemy import select

    from webapp.core.models import utcnow
    from webapp.integrations import oauth
    from webapp.integrations.models import Connection
    from webapp.integrations.providers import instagram

    ids = db.session.scalars(
        select(Connection.id).where(
            Connection.provider == "instagram",
            Connection.status == Connection.CONNECTED,
            Connection.token_expires_at <= utcnow() + instagram.REFRESH_MARGIN,
        )
    ).all()
    refreshed = 0
    for conn_id in ids:
        conn = db.session.get(Connection, conn_id)
        if conn is None:  # removed since the query: nothing to refresh
            continue
        try:
            refreshed += bool(instagram.refresh_token_if_needed(conn))
        except oauth.ConnectionUnavailable:
            continue  # temporary, or expired (already recorded and e-mailed)
        commit_progress("each connection's refreshed token is saved on its own (a job)")
    return refreshed


@lease.on_expiry(PublishJob)
def _target_lease_expired(target: PublishJob):
    from webapp.studio.services.publishing import recover_lost_target

    return recover_lost_target(target)
