"""Retention of Studio's history (seed 002 keeps it bounded): metric snapshots and publish attempts older
than their settings are deleted in batches by a daily maintenance job. The latest snapshot of every
published post stays whatever its age, so current figures and the last point of each chart remain; an
attempt of a target that may still run is never deleted."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.orm import aliased

from webapp.core.models import utcnow
from webapp.core.transaction import commit_progress
from webapp.extensions import db
from webapp.settings import define, get
from webapp.studio.models import MetricSnapshot, PublishAttempt, PublishJob

define(
    "studio.snapshot_retention_days",
    int,
    400,
    "Metric snapshots older than this are deleted (the latest of each post is kept), in days",
    minimum=30,
    maximum=3650,
)
define(
    "studio.attempt_retention_days",
    int,
    180,
    "Publish attempts of finished targets older than this are deleted, in days",
    minimum=7,
    maximum=3650,
)
BATCH = 5000
STILL_RUNNING = (PublishJob.PENDING, PublishJob.ACTIVE, PublishJob.DELAYED)


def prune_snapshots(now: datetime | None = None, batch: int = BATCH) -> int:
    cutoff = (now or utcnow()) - timedelta(days=get("studio.snapshot_retention_days"))
    newer = aliased(MetricSnapshot)
    has_newer = exists().where(
        newer.published_post_id == MetricSnapshot.published_post_id,
        or_(
            newer.taken_at > MetricSnapshot.taken_at,
            and_(newer.taken_at == MetricSnapshot.taken_at, newer.id > MetricSnapshot.id),
        ),
    )
    old = select(MetricSnapshot.id).where(MetricSnapshot.taken_at < cutoff, has_newer).limit(batch)
    return _delete_in_batches(MetricSnapshot, old)


def prune_attempts(now: datetime | None = None, batch: int = BATCH) -> int:
    cutoff = (now or utcnow()) - timedelta(days=get("studio.attempt_retention_days"))
    old = (
        select(PublishAttempt.id)
        .join(PublishJob, PublishJob.id == PublishAttempt.job_id)
        .where(PublishAttempt.created_at < cutoff, PublishJob.status.not_in(STILL_RUNNING))
        .limit(batch)
    )
    return _delete_in_batches(PublishAttempt, old)


def _delete_in_batches(model, ids_stmt) -> int:
    total = 0
    while ids := list(db.session.scalars(ids_stmt)):
        db.session.execute(delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False))
        total += len(ids)
        commit_progress("retention deletes in batches, each committed (a maintenance job)")
    return total


def prune_history(now: datetime | None = None, batch: int = BATCH) -> dict[str, int]:
    return {"snapshots": prune_snapshots(now, batch), "attempts": prune_attempts(now, batch)}
