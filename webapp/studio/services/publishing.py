"""Publishing: claim due targets atomically, run each platform's real protocol step by step with
every remote id saved before the next step, and never publish twice.

Rules that keep "exactly once":
- a target is taken by one worker: ``UPDATE … SET status='ACTIVE' WHERE status IN ('PENDING',
  'DELAYED') AND due_at <= now … RETURNING`` (with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL);
- just before the call that makes a post public, ``irreversible_at`` is set by a conditional UPDATE
  and committed; a second runner that finds it set does not call again;
- when that call's outcome is unknown (timeout, network error, 5xx) the target FAILS with "check the
  account" and is never retried automatically (YouTube is the exception: its upload session says
  what arrived, so we ask);
- automatic retries (exponential backoff with jitter) only for errors known to be safe.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from datetime import timedelta

from sqlalchemy import or_, select, update

from webapp.core.events import emit
from webapp.core.models import get_existing, rowcount, utcnow
from webapp.core.transaction import commit_progress
from webapp.extensions import db
from webapp.integrations import oauth
from webapp.integrations.models import Connection
from webapp.integrations.providers import instagram, tiktok, youtube
from webapp.integrations.providers.client import ProviderClient, ProviderError
from webapp.jobs import lease
from webapp.settings import get
from webapp.storage import storage
from webapp.studio.models import (
    INSTAGRAM,
    PLATFORM_LABELS,
    TIKTOK,
    YOUTUBE,
    Post,
    PublishAttempt,
    PublishedPost,
    PublishJob,
    StudioSettings,
)
from webapp.studio.services import quota
from webapp.studio.services.posts import rollup
from webapp.studio.services.versions import version_for_job
from webapp.studio.services.videos import content_type

log = logging.getLogger(__name__)


class Problem(Exception):
    """Why a run stopped. ``safe``: may be retried automatically; ``unknown``: may have published."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        safe: bool = False,
        unknown: bool = False,
        http_status: int | None = None,
        excerpt: str = "",
        retry_after: float | None = None,
        delay_until=None,
    ):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.safe = safe
        self.unknown = unknown
        self.http_status = http_status
        self.excerpt = excerpt[:500]
        self.retry_after = retry_after
        self.delay_until = delay_until


class Wait(Exception):
    """The step is done (or the platform is still processing): the next step is its own job, ``seconds`` later."""

    def __init__(self, seconds: float = 0.0):
        super().__init__(seconds)
        self.seconds = seconds


def _excerpt(error: ProviderError) -> str:
    import json

    payload = error.payload
    if payload is None:
        return str(error)[:500]
    try:
        return json.dumps(payload)[:500]
    except (TypeError, ValueError):
        return str(payload)[:500]


def _problem(error: ProviderError, platform: str, step: str, *, irreversible: bool = False) -> Problem:
    label = PLATFORM_LABELS[platform]
    status, kind = error.status_code, error.kind
    if irreversible and kind in ("timeout", "network", "server"):
        return Problem(
            f"{label} did not answer when the video was being published, so we cannot tell whether it went out. "
            "Check the account before retrying.",
            kind="unknown",
            unknown=True,
            http_status=status,
            excerpt=_excerpt(error),
        )
    if kind == "rate_limited":
        return Problem(
            f"{label} asked us to slow down ({step}).",
            kind="rate_limited",
            safe=True,
            http_status=status,
            excerpt=_excerpt(error),
            retry_after=error.retry_after,
        )
    if kind in ("timeout", "network", "server"):
        what = {"timeout": "timed out", "network": "could not be reached", "server": f"had a server error ({status})"}[
            kind
        ]
        return Problem(
            f"{label} {what} during {step}.", kind=kind, safe=True, http_status=status, excerpt=_excerpt(error)
        )
    if status == 401:
        return Problem(
            f"{label} refused the account's credentials. Reconnect the account, then retry.",
            kind="auth",
            http_status=status,
            excerpt=_excerpt(error),
        )
    return Problem(
        f"{label} refused the {step}: {str(error).split(': ', 1)[-1][:200]}",
        kind="rejected",
        http_status=status,
        excerpt=_excerpt(error),
    )


# ----------------------------------------------------------------------------- claiming


def _publishable():
    """Only targets of posts that need no approval or were approved may be claimed (approvals), and
    none of a queued post while its organization's queue is paused."""
    from webapp.orgs.suspension import suspended_ids

    paused = select(StudioSettings.organization_id).where(StudioSettings.queue_paused.is_(True))
    return PublishJob.post_id.in_(
        select(Post.id).where(
            or_(Post.approval.is_(None), Post.approval.in_(Post.PUBLISHABLE_APPROVALS)),
            or_(Post.queued.is_(False), Post.organization_id.not_in(paused)),
            # A suspended organization's targets wait (neither published nor marked missed).
            Post.organization_id.not_in(suspended_ids()),
        )
    )


def claim_one(job_id: int) -> str | None:
    """Take this target if it is due and nobody has it; returns the claim token."""
    token = str(uuid.uuid4())
    now = utcnow()
    row = db.session.execute(
        update(PublishJob)
        .where(
            PublishJob.id == job_id,
            PublishJob.status.in_(PublishJob.CLAIMABLE),
            PublishJob.due_at <= now,
            _publishable(),
        )
        .values(status=PublishJob.ACTIVE, claimed_at=now, **lease.lease_values(token, now))
        .returning(PublishJob.id)
        .execution_options(synchronize_session=False)
    ).first()
    commit_progress("each publishing step saves its state as it goes (its own job)")
    return token if row else None


def claim_due(limit: int = 200) -> list[tuple[int, str]]:
    """Every due target not yet taken, claimed in one statement (never a suspended organization's)."""
    token = str(uuid.uuid4())
    now = utcnow()
    due = (
        select(PublishJob.id)
        .where(PublishJob.status.in_(PublishJob.CLAIMABLE), PublishJob.due_at <= now, _publishable())
        .order_by(PublishJob.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = (
        db.session.execute(
            update(PublishJob)
            .where(
                PublishJob.id.in_(due.scalar_subquery()),
                PublishJob.status.in_(PublishJob.CLAIMABLE),
                _publishable(),
            )
            .values(status=PublishJob.ACTIVE, claimed_at=now, **lease.lease_values(token, now))
            .returning(PublishJob.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    commit_progress("each publishing step saves its state as it goes (its own job)")
    return [(i, token) for i in ids]


def mark_missed() -> int:
    """Targets whose time passed by more than the window without starting are failed as missed."""
    window = timedelta(minutes=get("studio.missed_window_minutes"))
    now = utcnow()
    ids = (
        db.session.execute(
            update(PublishJob)
            .where(PublishJob.status == PublishJob.PENDING, PublishJob.due_at < now - window, _publishable())
            .values(
                status=PublishJob.FAILED,
                failed_at=now,
                error_kind="missed",
                error_message=(
                    "Missed: publishing could not start within "
                    f"{get('studio.missed_window_minutes')} minutes of the scheduled time. Retry to publish it now."
                ),
            )
            .returning(PublishJob.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    for job_id in ids:
        job = get_existing(PublishJob, job_id, populate_existing=True)
        rollup(job.post)
        _emit_failed(job)
    commit_progress("each publishing step saves its state as it goes (its own job)")
    return len(ids)


def recover_lost_target(job: PublishJob) -> tuple[str, str]:
    """The lease sweeper's handler: the worker running a step died, or the step queued for later
    never came. Before the publishing call a step is safe to repeat (each step's remote ids are
    saved before the next), so the target is queued again like any safe retry; after it, we cannot
    know whether the post went out, so it fails and says to check the account. Never re-run blindly."""
    if job.status != PublishJob.ACTIVE:
        return lease.RELEASED, ""
    step = job.step or "start"
    if job.platform == INSTAGRAM and (job.remote or {}).get("media_id"):
        # Published (its id was saved first); the worker stopped during the first comment, which may be there.
        if (job.remote or {}).get("comment_state") == "sending":
            job.remote = {**job.remote, "comment_state": "unknown"}
        attempt = (
            job.attempts[-1] if job.attempts else PublishAttempt(job=job, attempt_number=job.attempt_number, step=step)
        )
        media_id = job.remote["media_id"]
        _complete(job, attempt, media_id, f"https://www.instagram.com/reel/{media_id}/")
        job.lease_expires_at = None
        rollup(job.post)
        return lease.RELEASED, "Published; the worker stopped after it."
    if job.irreversible_at is not None:
        job.outcome_unknown = True
        reason = (
            f"Publishing stopped after the video was sent to {job.platform_label} (the worker stopped during the "
            f"{step} step). Check the account before retrying."
        )
    elif job.attempt_number < get("studio.max_attempts") and lease.requeue_allowed(job):
        reason = (
            f"The worker stopped during the {step} step. Trying again automatically (attempt {job.attempt_number + 1})."
        )
        if job.attempts and job.attempts[-1].outcome == "running":
            job.attempts[-1].outcome = "retry"
            job.attempts[-1].excerpt = "The worker stopped during this step."
        job.status = PublishJob.PENDING
        job.due_at = utcnow()
        job.error_kind = "stuck"
        job.error_message = reason
        rollup(job.post)
        return lease.REQUEUED, reason
    else:
        reason = f"Publishing stopped during the {step} step (the worker stopped) and was not retried again. Retry it."
    if job.attempts and job.attempts[-1].outcome == "running":
        job.attempts[-1].outcome = "unknown" if job.outcome_unknown else "failed"
    _fail(job, Problem(reason, kind="stuck", unknown=job.outcome_unknown))
    rollup(job.post)
    return lease.FAILED, reason


def _cross_irreversible(job: PublishJob) -> bool:
    """Mark, durably, that the publishing call is about to go out; False if someone already did."""
    now = utcnow()
    changed = rowcount(
        db.session.execute(
            update(PublishJob)
            .where(PublishJob.id == job.id, PublishJob.irreversible_at.is_(None))
            .values(irreversible_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    commit_progress("each publishing step saves its state as it goes (its own job)")
    db.session.refresh(job)
    return changed == 1


def _save(job: PublishJob, step: str | None = None, **remote) -> None:
    """Each step's remote ids, committed before the next step starts."""
    if remote:
        job.remote = {**(job.remote or {}), **remote}
    if step is not None:
        job.step = step
    commit_progress("each publishing step saves its state as it goes (its own job)")


# ----------------------------------------------------------------------------- running


def _lease(job_id: int, token: str) -> str | None:
    """Take the next step of a claimed target: the token rotates in one conditional UPDATE, so a step
    delivered twice (two workers, a replayed job) runs once; the other delivery finds a stale token."""
    fresh = str(uuid.uuid4())
    row = db.session.execute(
        update(PublishJob)
        .where(PublishJob.id == job_id, PublishJob.status == PublishJob.ACTIVE, PublishJob.claim_token == token)
        .values(claimed_at=utcnow(), **lease.lease_values(fresh))
        .returning(PublishJob.id)
        .execution_options(synchronize_session=False)
    ).first()
    commit_progress("each publishing step saves its state as it goes (its own job)")
    return fresh if row else None


def _continue_later(job: PublishJob, token: str, seconds: float) -> None:
    """The next step as its own job; a wait is scheduled (RQ's scheduler), never slept in a worker."""
    from webapp.jobs.runner import backend
    from webapp.studio.jobs import publish_target

    at = utcnow() + timedelta(seconds=seconds) if seconds > 0 else None
    if at is not None and backend() == "inline":
        time.sleep(seconds)  # no Redis, no scheduler: the in-process fallback can only wait here
        at = None
    # Nobody holds the target while it waits: the lease covers the wait plus the scheduler's slack.
    lease.extend(PublishJob, job.id, token, (seconds if at else 0) + 60 * get("studio.stuck_active_minutes"))
    publish_target.delay(job.id, token, resume=True, at=at, at_front=True)  # started work finishes first
    commit_progress("each publishing step saves its state as it goes (its own job)")


def run(job_id: int, token: str, *, resume: bool = False) -> str | None:
    """Run the next step of one claimed target. Each step (creator info + init, upload, each status
    check, publish) is its own job; ends in COMPLETED, FAILED, DELAYED, a scheduled retry, or the
    next step queued. Returns its status."""
    held = _lease(job_id, token)
    if held is None:
        return None  # someone else has it (a step delivered twice), or it was cancelled
    token = held
    job = get_existing(PublishJob, job_id, populate_existing=True)
    if resume and job.attempts:
        attempt = job.attempts[-1]
    else:
        job.attempt_number += 1
        job.started_at = job.started_at or utcnow()
        attempt = PublishAttempt(
            job=job, attempt_number=job.attempt_number, step=job.step or "start", outcome="running"
        )
        db.session.add(attempt)
    rollup(job.post)
    if db.session.new or any(db.session.is_modified(row) for row in db.session.dirty):
        # A new attempt (or a new post status) is on record before the platform is called; a status
        # check of a running attempt changes nothing here, and saves a round trip to the database.
        commit_progress("each publishing step saves its state as it goes (its own job)")
    beat = lease.Heartbeat(PublishJob, job_id, token).start()  # renewed while this step runs
    try:
        post_id, url = RUNNERS[job.platform](job)
    except Wait as wait:
        attempt.step = job.step or "start"  # committed with the next step's job, in _continue_later
        _continue_later(job, token, wait.seconds)
        return job.status
    except Problem as problem:
        _handle(job, attempt, problem)
    except (oauth.ConnectionExpired, oauth.ConnectionUnavailable) as error:
        expired = isinstance(error, oauth.ConnectionExpired)
        _handle(job, attempt, Problem(error.message, kind="connection", safe=not expired))
    except Exception as error:  # a bug or an unexpected answer: fail it plainly, never re-run blindly
        log.exception("publishing target %s failed unexpectedly", job_id)
        db.session.rollback()
        job = get_existing(PublishJob, job_id, populate_existing=True)
        attempt = job.attempts[-1]
        _handle(
            job,
            attempt,
            Problem(
                f"Publishing stopped on an unexpected error ({type(error).__name__}). "
                + ("Check the account before retrying." if job.irreversible_at else "Retry it."),
                kind="internal",
                unknown=job.irreversible_at is not None,
            ),
        )
    else:
        _complete(job, attempt, post_id, url)
    finally:
        beat.stop()
    if job.status != PublishJob.ACTIVE:
        job.lease_expires_at = None
    rollup(job.post)
    commit_progress("each publishing step saves its state as it goes (its own job)")
    return job.status


def _complete(job: PublishJob, attempt: PublishAttempt, platform_post_id: str, url: str) -> None:
    now = utcnow()
    job.status = PublishJob.COMPLETED
    job.completed_at = now
    job.platform_post_id = platform_post_id
    job.error_message = job.error_kind = None
    attempt.outcome = "ok"
    attempt.step = job.step
    post = job.post
    if db.session.scalar(select(PublishedPost.id).where(PublishedPost.job_id == job.id)) is None:
        db.session.add(
            PublishedPost(
                organization_id=job.organization_id,
                created_by_id=post.created_by_id,
                post_id=post.id,
                job_id=job.id,
                video_id=post.video_id,
                platform=job.platform,
                platform_post_id=platform_post_id,
                url=url,
                caption=version_for_job(job).caption,
                hashtags=version_for_job(job).hashtags,
                published_at=now,
            )
        )
    emit(
        "post.published",
        org=job.organization_id,
        post_id=post.id,
        target_id=job.id,
        platform=job.platform,
        platform_label=job.platform_label,
        url=url,
    )


def _handle(job: PublishJob, attempt: PublishAttempt, problem: Problem) -> None:
    attempt.step = job.step or "start"
    attempt.http_status = problem.http_status
    attempt.error_kind = problem.kind
    attempt.excerpt = (problem.excerpt or problem.message)[:500]
    if problem.delay_until is not None:
        attempt.outcome = "delayed"
        job.attempt_number -= 1  # waiting for quota is not an attempt
        job.status = PublishJob.DELAYED
        job.due_at = problem.delay_until
        job.claim_token = None
        job.error_kind = problem.kind
        job.error_message = problem.message
        _enqueue_at(job)
        return
    if problem.safe and not problem.unknown and job.attempt_number < get("studio.max_attempts"):
        attempt.outcome = "retry"
        wait = problem.retry_after
        if wait is None:
            wait = get("studio.retry_base_seconds") * 2 ** (job.attempt_number - 1) * random.uniform(0.5, 1.5)
        job.status = PublishJob.PENDING
        job.due_at = utcnow() + timedelta(seconds=wait)
        job.claim_token = None
        job.error_kind = problem.kind
        job.error_message = f"{problem.message} Trying again automatically (attempt {job.attempt_number + 1})."
        _enqueue_at(job)
        return
    attempt.outcome = "unknown" if problem.unknown else "failed"
    if problem.safe and not problem.unknown:
        problem.message += f" Gave up after {job.attempt_number} attempts."
    _fail(job, problem)


def _fail(job: PublishJob, problem: Problem) -> None:
    job.status = PublishJob.FAILED
    job.failed_at = utcnow()
    job.claim_token = None
    job.error_kind = problem.kind
    job.error_message = problem.message
    job.outcome_unknown = job.outcome_unknown or problem.unknown
    _emit_failed(job)


def _emit_failed(job: PublishJob) -> None:
    emit(
        "post.failed",
        org=job.organization_id,
        post_id=job.post_id,
        target_id=job.id,
        platform=job.platform,
        platform_label=job.platform_label,
        reason=job.error_message or "",
        check_account=job.outcome_unknown,
    )


def _enqueue_at(job: PublishJob) -> None:
    from webapp.studio.jobs import publish_target

    publish_target.delay(job.id, at=job.due_at)


def _connection(job: PublishJob) -> Connection:
    conn = job.connection
    if conn is None or conn.status != Connection.CONNECTED:
        name = f" @{conn.account_name}" if conn is not None else ""
        raise Problem(
            f"The {job.platform_label} account{name} is not connected. Reconnect it, then retry.", kind="connection"
        )
    return conn


def _client(job: PublishJob) -> ProviderClient:
    return ProviderClient(
        job.connection.provider, org_id=job.organization_id, timeout=get("studio.http_timeout_seconds")
    )


def _poll_wait() -> Wait:
    return Wait(get("studio.poll_interval_ms") / 1000)


def _count_check(job: PublishJob) -> int:
    """Status checks of this run so far (polls of earlier attempts do not count)."""
    checks = int((job.remote or {}).get("checks", 0)) + 1
    job.polls += 1
    # Not committed on its own: a counter, saved with whatever the check leads to (the next check's
    # job, the next step, or the outcome), all in the same step.
    job.remote = {**(job.remote or {}), "checks": checks}
    return checks


def _caption(job: PublishJob) -> str:
    """This target's own caption and hashtags, or the post's shared ones (``versions``)."""
    return version_for_job(job).text


# ----------------------------------------------------------------------------- TikTok


def _run_tiktok(job: PublishJob) -> tuple[str, str]:
    conn = _connection(job)
    oauth.refresh_if_needed(conn, margin=timedelta(minutes=30))  # just before publishing
    video = job.post.video
    remote = job.remote or {}
    with _client(job) as client:
        if not remote.get("publish_id"):
            job.step = "creator_info"
            try:
                info = tiktok.creator_info(conn, client)
            except ProviderError as error:
                raise _problem(error, TIKTOK, "creator info check") from None
            privacy = job.options.get("privacy_level")
            if privacy not in (info.get("privacy_level_options") or []):
                raise Problem(
                    "This TikTok account no longer offers the privacy setting you chose. Edit the post.",
                    kind="rejected",
                )
            max_seconds = int(info.get("max_video_post_duration_sec") or 600)
            if video.duration_seconds > max_seconds:
                raise Problem(
                    f"TikTok now allows {max_seconds} s for this account; the video is longer.", kind="rejected"
                )
            size = storage().size(video.storage_key)
            chunk = min(get("studio.tiktok_chunk_bytes"), size)
            version = version_for_job(job)
            post_info = {
                "title": version.text,
                "privacy_level": privacy,
                **version.interactions,  # disable_comment, disable_duet, disable_stitch
                "video_cover_timestamp_ms": 1000,
            }
            job.step = "init"
            try:
                data = tiktok.init_upload(conn, client, post_info, size, chunk)
            except ProviderError as error:
                raise _problem(error, TIKTOK, "upload start") from None
            _save(
                job,
                "uploading",
                publish_id=data["publish_id"],
                upload_url=data["upload_url"],
                size=size,
                chunk=chunk,
                uploaded=0,
            )
            raise Wait(0)  # the upload is its own job
        if job.step == "uploading":
            size, chunk = remote["size"], remote["chunk"]
            for start, end in tiktok.chunk_plan(size, chunk):
                if end < remote.get("uploaded", 0):
                    continue
                last = end == size - 1
                if last and not _cross_irreversible(job):
                    raise Problem(
                        "Another run already sent this video to TikTok. Check the account.",
                        kind="unknown",
                        unknown=True,
                    )
                piece = storage().read_range(video.storage_key, start, end - start + 1)
                try:
                    tiktok.put_chunk(client, remote["upload_url"], piece, start, size, content_type(video))
                except ProviderError as error:
                    raise _problem(error, TIKTOK, "upload", irreversible=last) from None
                _save(job, "processing" if last else None, uploaded=end + 1)
                remote = job.remote
            raise _poll_wait()  # the first status check is its own job, after the poll interval
        job.step = "processing"
        try:
            status = tiktok.fetch_status(conn, client, remote["publish_id"])
        except ProviderError as error:
            raise _problem(error, TIKTOK, "status check") from None
        checks = _count_check(job)
        if status.get("status") == "PUBLISH_COMPLETE":
            ids = status.get("publicaly_available_post_id") or status.get("publicly_available_post_id") or []
            post_id = str(ids[0]) if ids else remote["publish_id"]
            return post_id, f"https://www.tiktok.com/@{conn.account_name}/video/{post_id}"
        if status.get("status") == "FAILED":
            raise Problem(
                f"TikTok could not publish the video: {status.get('fail_reason', 'no reason given')}.",
                kind="rejected",
            )
        if checks < get("studio.max_polls"):
            raise _poll_wait()
    raise Problem(
        f"TikTok was still processing after {get('studio.max_polls')} checks. Check the account.",
        kind="processing",
        unknown=True,
    )


# ----------------------------------------------------------------------------- Instagram


def _run_instagram(job: PublishJob) -> tuple[str, str]:
    conn = _connection(job)
    instagram.refresh_token_if_needed(conn)
    video = job.post.video
    with _client(job) as client:
        if not (job.remote or {}).get("container_id"):
            job.step = "publishing_limit"
            try:
                used, total = instagram.publishing_limit(conn, client)
            except ProviderError as error:
                raise _problem(error, INSTAGRAM, "publishing limit check") from None
            if used >= total:
                raise Problem(
                    f"Instagram's limit of {total} posts in 24 hours is reached; this will try again in an hour.",
                    kind="limit",
                    delay_until=utcnow() + timedelta(hours=1),
                )
            job.step = "container"
            url = storage().signed_url(video.storage_key, expires_in=6 * 3600)
            try:
                container_id = instagram.create_reel_container(
                    conn, client, url, _caption(job), bool(job.options.get("share_to_feed", True))
                )
            except ProviderError as error:
                raise _problem(error, INSTAGRAM, "media container") from None
            _save(job, "processing", container_id=container_id, checks=0)
            raise _poll_wait()  # the platform fetches and processes the video; check later
        container_id = job.remote["container_id"]
        if job.step == "processing":
            try:
                code, detail = instagram.container_status(conn, client, container_id)
            except ProviderError as error:
                raise _problem(error, INSTAGRAM, "processing check") from None
            checks = _count_check(job)
            if code == "FINISHED":
                _save(job, "publish")
                raise Wait(0)  # publishing is its own job
            if code in ("ERROR", "EXPIRED"):
                _save(job, "", container_id=None)  # a new container next time
                raise Problem(f"Instagram could not process the video: {detail or code}.", kind="rejected")
            if code == "PUBLISHED":
                raise Problem(
                    "Instagram shows this container as already published. Check the account.",
                    kind="unknown",
                    unknown=True,
                )
            if checks < get("studio.max_polls"):
                raise _poll_wait()
            _save(job, None, checks=0)
            raise Problem(
                f"Instagram was still processing the video after {get('studio.max_polls')} checks.",
                kind="processing",
                safe=True,
            )
        if (job.remote or {}).get("media_id"):  # published by an earlier step: only the first comment is left
            media_id = job.remote["media_id"]
            _first_comment(job, conn, client, media_id)
            return media_id, f"https://www.instagram.com/reel/{media_id}/"
        if not _cross_irreversible(job):
            raise Problem(
                "Another run already asked Instagram to publish this. Check the account.", kind="unknown", unknown=True
            )
        try:
            media_id = instagram.publish_container(conn, client, container_id)
        except ProviderError as error:
            problem = _problem(error, INSTAGRAM, "publish", irreversible=True)
            if not problem.unknown:  # a definite refusal: nothing was published
                job.irreversible_at = None
                commit_progress("each publishing step saves its state as it goes (its own job)")
            raise problem from None
        _save(job, "published", media_id=media_id)  # the remote id first, then the comment
        _first_comment(job, conn, client, media_id)
    return media_id, f"https://www.instagram.com/reel/{media_id}/"


def _first_comment(job: PublishJob, conn: Connection, client: ProviderClient, media_id: str) -> None:
    """The Instagram first comment, posted at most once: its state is committed before the call, and a
    call whose outcome is unknown is never repeated (the Reel is published either way; the page says
    what became of the comment)."""
    text = version_for_job(job).first_comment
    remote = job.remote or {}
    if not text or remote.get("comment_state") in ("sent", "failed", "unknown"):
        return
    if remote.get("comment_state") == "sending":  # a run stopped during the call: it may be there
        _save(job, None, comment_state="unknown")
        return
    _save(job, "first_comment", comment_state="sending")
    try:
        comment_id = instagram.post_comment(conn, client, media_id, text)
    except ProviderError as error:
        sure = error.kind not in ("timeout", "network", "server")  # refused: nothing was posted
        _save(
            job,
            None,
            comment_state="failed" if sure else "unknown",
            comment_error=str(error).split(": ", 1)[-1][:200],
        )
        return
    _save(job, None, comment_state="sent", comment_id=comment_id)


# ----------------------------------------------------------------------------- YouTube


def _run_youtube(job: PublishJob) -> tuple[str, str]:
    conn = _connection(job)
    oauth.refresh_if_needed(conn, margin=timedelta(minutes=30))
    video = job.post.video
    with _client(job) as client:
        if not (job.remote or {}).get("session_url"):
            if not (job.remote or {}).get("quota_charged"):
                cost = get("studio.youtube_upload_cost")
                if not quota.consume("upload", cost):
                    reset = quota.next_reset()
                    raise Problem(
                        "YouTube's daily upload quota is used up; this will upload after the quota resets at midnight "
                        "Pacific time.",
                        kind="quota",
                        delay_until=reset,
                    )
                _save(job, "session", quota_charged=True, quota_day=quota.quota_day())
            size = storage().size(video.storage_key)
            version = version_for_job(job)
            metadata = {
                "snippet": {
                    "title": version.title or video.title,
                    "description": version.text,
                    "tags": version.tags,
                    "categoryId": "22",
                },
                "status": {"privacyStatus": version.privacy, "selfDeclaredMadeForKids": False},
            }
            try:
                session_url = youtube.start_session(conn, client, metadata, size, content_type(video))
            except ProviderError as error:
                if youtube.error_reason(error) == "quotaExceeded":
                    raise Problem(
                        "YouTube says the daily quota is used up; this will upload after midnight Pacific time.",
                        kind="quota",
                        delay_until=quota.next_reset(),
                    ) from None
                raise _problem(error, YOUTUBE, "upload start") from None
            _save(job, "uploading", session_url=session_url, size=size, received=0)
            raise Wait(0)  # the upload is its own job
        remote = job.remote
        session_url, total = remote["session_url"], remote["size"]
        chunk = get("studio.youtube_chunk_units") * youtube.CHUNK_UNIT
        offset, result = remote.get("received", 0), None
        if remote.get("in_flight"):  # a run stopped mid-chunk: ask what arrived
            try:
                offset, result = youtube.query_upload(conn, client, session_url, total)
            except ProviderError as error:
                raise _problem(error, YOUTUBE, "upload status check") from None
        resumes = 0
        while result is None and offset < total:
            end = min(offset + chunk, total)
            if end == total:
                _cross_irreversible(job)  # the session itself makes one video at most; this is the record
            _save(job, None, in_flight=True)
            data = storage().read_range(video.storage_key, offset, end - offset)
            try:
                offset, result = youtube.put_chunk(conn, client, session_url, data, offset, total)
            except ProviderError as error:
                if youtube.error_reason(error) == "quotaExceeded":
                    raise Problem(
                        "YouTube says the daily quota is used up; this will resume after midnight Pacific time.",
                        kind="quota",
                        delay_until=quota.next_reset(),
                    ) from None
                resumes += 1
                try:
                    offset, result = youtube.query_upload(conn, client, session_url, total)
                except ProviderError:
                    raise _problem(error, YOUTUBE, "upload") from None
                if resumes > 5:
                    raise _problem(error, YOUTUBE, "upload") from None
            _save(job, None, received=offset, in_flight=False, resumes=remote.get("resumes", 0) + resumes)
        if result is None:
            raise Problem(
                "YouTube has the whole file but did not return the video. Check the channel.",
                kind="unknown",
                unknown=True,
            )
        video_id = result["id"]
        _save(job, "published", video_id=video_id)
    return video_id, f"https://www.youtube.com/shorts/{video_id}"


RUNNERS = {TIKTOK: _run_tiktok, INSTAGRAM: _run_instagram, YOUTUBE: _run_youtube}


def post_of(job: PublishJob) -> Post:
    return job.post


def resume_missed_targets(org) -> dict[str, int]:
    """On reactivation: a target whose time came while its organization was suspended would be
    "missed"; it is due now instead (``RESUME_HOOKS``)."""
    now = utcnow()
    return {
        "publish_targets": rowcount(
            db.session.execute(
                update(PublishJob)
                .where(
                    PublishJob.status == PublishJob.PENDING,
                    PublishJob.due_at < now,
                    PublishJob.post_id.in_(select(Post.id).where(Post.organization_id == org.id)),
                )
                .values(due_at=now)
                .execution_options(synchronize_session=False)
            )
        )
    }
