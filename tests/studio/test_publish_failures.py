"""Failures shown plainly, safe retries only, never twice: partial posts, outcome unknown, rate limits,
interrupted YouTube chunks, stuck and missed targets."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from tests.studio.conftest import post_form, published_count, sandbox_control, set_settings
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.jobs import lease
from webapp.studio.jobs import claim_due_targets
from webapp.studio.models import Post, PublishAttempt, PublishJob


def _post(creator):
    post = db.session.scalar(select(Post).where(Post.organization_id == creator.org.id).order_by(Post.id.desc()))
    db.session.refresh(post)
    for t in post.targets:
        db.session.refresh(t)
    return post


def _target(post, platform):
    return next(t for t in post.targets if t.platform == platform)


def test_one_failing_platform_makes_a_partial_post_and_retry_reposts_only_that_one(creator, run_jobs, mailbox):
    sandbox_control(creator.client, "instagram", faults={"publish": ["error"]})
    assert creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator)).status_code == 303
    run_jobs()
    post = _post(creator)
    assert post.status == Post.PARTIAL
    ig = _target(post, "INSTAGRAM")
    assert ig.status == PublishJob.FAILED and not ig.outcome_unknown
    assert "Instagram refused the publish" in ig.error_message
    attempt = db.session.scalar(select(PublishAttempt).where(PublishAttempt.job_id == ig.id))
    assert attempt.http_status == 400 and attempt.error_kind == "rejected" and "9004" in attempt.excerpt
    page = creator.client.get(f"/o/{creator.slug}/studio/posts/{post.id}").get_data(as_text=True)
    assert "Retry this platform" in page and "Instagram refused the publish" in page
    # the notifications domain turns post.failed into an in-app notice and an e-mail
    failed_mail = [m for m in mailbox.to("creator@example.com") if "Failed to publish" in m["Subject"]]
    assert failed_mail and f"/studio/posts/{post.id}" in mailbox.text(failed_mail[0])

    retry = creator.client.post(f"/o/{creator.slug}/studio/posts/{post.id}/targets/{ig.id}/retry")
    assert retry.status_code == 303
    run_jobs()
    post = _post(creator)
    assert post.status == Post.PUBLISHED
    assert [published_count(creator.client, p) for p in ("tiktok", "instagram", "youtube")] == [1, 1, 1]


def test_outcome_unknown_is_never_retried_automatically(creator, run_jobs):
    sandbox_control(creator.client, "tiktok", faults={"upload": ["unknown"]})
    creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator, platforms=("tiktok",)))
    run_jobs()
    claim_due_targets()
    run_jobs()
    tt = _target(_post(creator), "TIKTOK")
    assert tt.status == PublishJob.FAILED and tt.outcome_unknown
    assert "Check the account" in tt.error_message
    assert tt.attempt_number == 1
    assert published_count(creator.client, "tiktok") == 1  # it did go out: the answer was lost

    # a plain retry is refused; the creator must say they checked
    creator.client.post(f"/o/{creator.slug}/studio/posts/{tt.post_id}/targets/{tt.id}/retry")
    db.session.refresh(tt)
    assert tt.status == PublishJob.FAILED
    page = creator.client.get(f"/o/{creator.slug}/studio/posts/{tt.post_id}").get_data(as_text=True)
    assert "may have published this already" in page and "I checked" in page


def test_rate_limit_before_upload_is_retried_with_backoff(creator, run_jobs):
    sandbox_control(creator.client, "tiktok", faults={"init": ["rate_limit", "rate_limit", "rate_limit", "rate_limit"]})
    creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator, platforms=("tiktok",)))
    run_jobs()
    tt = _target(_post(creator), "TIKTOK")
    # the provider client waits out short 429s itself; then our own retry takes over
    for _ in range(4):
        if tt.status == PublishJob.COMPLETED:
            break
        claim_due_targets()
        run_jobs()
        db.session.refresh(tt)
    assert tt.status == PublishJob.COMPLETED
    assert tt.attempt_number >= 2
    outcomes = [a.outcome for a in tt.attempts]
    assert "retry" in outcomes and outcomes[-1] == "ok"
    assert published_count(creator.client, "tiktok") == 1


def test_gives_up_after_max_attempts_with_the_reason(creator, run_jobs):
    set_settings(max_attempts=2)
    sandbox_control(creator.client, "instagram", faults={"container": ["server"] * 12})
    creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator, platforms=("instagram",)))
    run_jobs()
    for _ in range(3):
        claim_due_targets()
        run_jobs()
    ig = _target(_post(creator), "INSTAGRAM")
    assert ig.status == PublishJob.FAILED
    assert "server error" in ig.error_message and "Gave up after 2 attempts" in ig.error_message
    assert published_count(creator.client, "instagram") == 0


def test_youtube_resumes_an_interrupted_chunk_by_asking_what_arrived(creator, run_jobs):
    set_settings(youtube_chunk_units=1)
    sandbox_control(creator.client, "youtube", faults={"chunk": ["interrupt"]})
    creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator, platforms=("youtube",)))
    run_jobs()
    yt = _target(_post(creator), "YOUTUBE")
    assert yt.status == PublishJob.COMPLETED, yt.error_message
    assert yt.attempt_number == 1 and yt.remote["resumes"] >= 1
    assert published_count(creator.client, "youtube") == 1


def test_youtube_quota_exhausted_waits_for_the_next_pacific_day(creator, run_jobs):
    set_settings(youtube_upload_quota=2000, youtube_upload_cost=1600)
    first = post_form(creator, platforms=("youtube",))
    creator.client.post(f"/o/{creator.slug}/studio/posts/new", first)
    run_jobs()
    creator.client.post(f"/o/{creator.slug}/studio/posts/new", first)
    run_jobs()
    yt = _target(_post(creator), "YOUTUBE")
    assert yt.status == PublishJob.DELAYED
    assert "quota" in yt.error_message and "midnight Pacific" in yt.error_message
    assert yt.attempt_number == 0
    page = creator.client.get(f"/o/{creator.slug}/studio/posts/{yt.post_id}").get_data(as_text=True)
    assert "Delayed" in page
    from webapp.studio.services.quota import next_reset

    assert yt.due_at == next_reset()
    with time_machine.travel(yt.due_at + timedelta(minutes=1)):
        claim_due_targets()
        run_jobs()
        db.session.refresh(yt)
    assert yt.status == PublishJob.COMPLETED
    assert published_count(creator.client, "youtube") == 2


def test_missed_targets_are_marked_not_published_late(creator, run_jobs):
    when = utcnow() + timedelta(hours=2)
    data = post_form(
        creator, platforms=("tiktok",), action="schedule", schedule_date=when.astimezone().date().isoformat()
    )
    from zoneinfo import ZoneInfo

    local = when.astimezone(ZoneInfo(creator.org.timezone))
    data.update(schedule_date=local.date().isoformat(), schedule_time=local.strftime("%H:%M"))
    assert creator.client.post(f"/o/{creator.slug}/studio/posts/new", data).status_code == 303
    with time_machine.travel(when + timedelta(hours=3)):
        claim_due_targets()
        run_jobs()
    post = _post(creator)
    tt = _target(post, "TIKTOK")
    assert tt.status == PublishJob.FAILED and tt.error_kind == "missed"
    assert "Missed" in tt.error_message
    assert post.status == Post.FAILED
    assert published_count(creator.client, "tiktok") == 0


def test_lease_sweeper_fails_a_target_whose_worker_died_after_the_publishing_call(creator, run_jobs):
    creator.client.post(
        f"/o/{creator.slug}/studio/posts/new", post_form(creator, platforms=("instagram",), action="draft")
    )
    post = _post(creator)
    ig = _target(post, "INSTAGRAM")
    ig.status, ig.claimed_at, ig.claim_token = PublishJob.ACTIVE, utcnow() - timedelta(hours=2), "lost-worker"
    ig.lease_expires_at = utcnow() - timedelta(seconds=1)
    ig.irreversible_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    claim_due_targets()  # the minute claim leaves an ACTIVE target alone
    db.session.refresh(ig)
    assert ig.status == PublishJob.ACTIVE
    assert lease.sweep() == {"studio_publish_jobs": {"failed": 1}}
    db.session.refresh(ig)
    assert ig.status == PublishJob.FAILED and ig.outcome_unknown and ig.claim_token is None
    assert "Check the account before retrying" in ig.error_message
    assert lease.sweep() == {}  # once


def test_lease_sweeper_requeues_a_target_whose_worker_died_before_the_publishing_call(creator, run_jobs):
    creator.client.post(
        f"/o/{creator.slug}/studio/posts/new", post_form(creator, platforms=("instagram",), action="draft")
    )
    post = _post(creator)
    ig = _target(post, "INSTAGRAM")
    ig.status, ig.claimed_at, ig.claim_token, ig.step = PublishJob.ACTIVE, utcnow(), "lost-worker", "upload"
    ig.attempt_number, ig.lease_expires_at = 1, utcnow() - timedelta(seconds=1)
    db.session.add(PublishAttempt(job=ig, attempt_number=1, step="upload", outcome="running"))
    db.session.commit()
    assert lease.sweep() == {"studio_publish_jobs": {"requeued": 1}}
    db.session.refresh(ig)
    assert ig.status == PublishJob.PENDING and ig.claim_token is None and ig.due_at <= utcnow()
    assert "worker stopped during the upload step. Trying again automatically (attempt 2)" in ig.error_message
    assert ig.attempts[-1].outcome == "retry"
    from webapp.studio.services import publishing

    [(claimed, token)] = publishing.claim_due()  # the minute claim takes it again
    db.session.refresh(ig)
    assert claimed == ig.id and ig.claim_token == token and ig.lease_expires_at > utcnow()
