"""Background jobs on real Redis: post-commit enqueue, retry with backoff, the in-process fallback
and periodic jobs (RQ's cron scheduler with Redis, an in-process loop without it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from rq.job import JobStatus
from rq.scheduler import RQScheduler
from sqlalchemy import select

from tests.conftest import REDIS_UP
from tests.core import jobs_for_tests as jobs
from tests.core.apps import make_app, shared_config
from tests.workers import work
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.jobs import namespace, runner
from webapp.jobs.cron import InlineCron, build_cron_scheduler, load_job_modules
from webapp.jobs.runner import PERIODIC, Periodic, get_queue, queue_name

needs_redis = pytest.mark.skipif(not REDIS_UP, reason="needs Redis at TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parents[2]


def _work(app, *queues):
    with app.app_context():
        work([get_queue(q) for q in queues], app.extensions["tessera.redis"])


@needs_redis
def test_enqueue_waits_for_the_commit(app, ctx):
    queue = get_queue("maintenance")
    jobs.write_audit.delay("after-commit")
    assert queue.count == 0  # nothing leaves before the transaction commits
    db.session.commit()
    assert queue.count == 1
    job = queue.jobs[0]
    assert job.func_name == "tests.core.jobs_for_tests.write_audit" and job.args == ("after-commit",)


@needs_redis
def test_rollback_discards_queued_jobs(app, ctx):
    queue = get_queue("maintenance")
    jobs.write_audit.delay("rolled-back")
    db.session.rollback()
    db.session.commit()  # a later commit does not resurrect it
    assert queue.count == 0
    jobs.write_audit.delay("kept")
    db.session.commit()
    assert [j.args for j in queue.jobs] == [("kept",)]


@needs_redis
def test_a_job_that_fails_twice_is_retried_with_backoff_and_succeeds(app, ctx):
    redis = app.extensions["tessera.redis"]
    queue = get_queue("default")
    jobs.flaky.delay("flaky-1")
    db.session.commit()
    job = queue.jobs[0]
    assert job.retries_left == 3 and job.retry_intervals == [10, 60, 300]

    scheduler = RQScheduler([queue_name("default")], connection=redis)
    scheduler.prepare_registries([queue_name("default")])
    registry = queue.scheduled_job_registry
    for attempt, backoff in ((1, 10), (2, 60)):
        started = datetime.now(UTC)
        _work(app, "default")
        assert int(redis.get("flaky-1")) == attempt
        job.refresh()
        assert job.get_status() == JobStatus.SCHEDULED
        delay = (registry.get_scheduled_time(job) - started).total_seconds()
        assert backoff - 2 <= delay <= backoff + 2, delay  # the declared backoff, not an immediate retry
        with time_machine.travel(started + timedelta(seconds=backoff + 1), tick=False):
            scheduler.enqueue_scheduled_jobs()
        assert queue.count == 1

    _work(app, "default")
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert int(redis.get("flaky-1:done")) == 3
    assert queue.failed_job_registry.count == 0


@pytest.fixture(scope="module")
def inline_app(app):
    """A second app on the same database with the in-process backend (as with no Redis)."""
    inline = make_app(
        {**shared_config(app), "TESTING": True, "JOBS_BACKEND": "inline", "RATELIMIT_STORAGE_URI": "memory://"}
    )
    yield inline
    with inline.app_context():
        db.engine.dispose()


def test_in_process_fallback_runs_jobs_after_the_request_commits(inline_app, mailbox):
    from tests.conftest import Browserish
    from webapp.mail.models import EmailMessage

    client = Browserish(inline_app.test_client())
    response = client.post(
        "/auth/signup", {"name": "Tendai", "email": "tendai@example.com", "password": "correct horse battery"}
    )
    assert response.status_code == 303
    # no worker ran: the web process delivered the verification e-mail itself, after the commit
    message = mailbox.last_to("tendai@example.com")
    assert "Confirm" in message["Subject"]
    with inline_app.app_context():
        row = db.session.scalar(select(EmailMessage).where(EmailMessage.to_address == "tendai@example.com"))
        assert row.status == EmailMessage.SENT and row.attempts == 1


def test_in_process_jobs_wait_for_commit_and_vanish_on_rollback(inline_app):
    with inline_app.app_context():
        jobs.write_audit.delay("inline-rolled-back")
        db.session.rollback()
        jobs.write_audit.delay("inline-kept")
        assert not getattr(runner._local, "backlog", None)  # not before the commit
        db.session.commit()
        assert [item.args for item in runner._local.backlog] == [("inline-kept",)]
        runner.drain_inline()
        labels = [e.details.get("label") for e in db.session.scalars(select(AuditEntry))]
        assert labels == ["inline-kept"]


def test_a_failing_in_process_job_does_not_break_the_next(inline_app):
    with inline_app.app_context():
        jobs.always_fails.delay("first")
        jobs.write_audit.delay("second")
        db.session.commit()
        runner.drain_inline()
        labels = [e.details.get("label") for e in db.session.scalars(select(AuditEntry))]
        assert labels == ["second"]


# Periodic jobs ---------------------------------------------------------------------------------


def _periodic(cron: str, label: str) -> Periodic:
    return Periodic(lambda: jobs.write_audit(label), cron, "maintenance", f"test.{label}")


def test_inline_cron_runs_due_jobs_once_per_matching_time(ctx):
    start = datetime(2026, 11, 23, 10, 2, tzinfo=UTC)
    cron = InlineCron([_periodic("*/5 * * * *", "every-five")], start=start)
    assert cron.run_due(start + timedelta(minutes=2, seconds=59)) == []
    assert cron.seconds_until_next(start) == 30.0  # sleeps are capped so a changed clock is noticed
    assert cron.run_due(datetime(2026, 11, 23, 10, 5, tzinfo=UTC)) == ["test.every-five"]
    assert cron.run_due(datetime(2026, 11, 23, 10, 5, 30, tzinfo=UTC)) == []
    assert cron.entries[0][1] > datetime(2026, 11, 23, 10, 5, tzinfo=UTC)
    labels = [e.details.get("label") for e in db.session.scalars(select(AuditEntry))]
    assert labels == ["every-five"]


def test_inline_cron_survives_a_failing_job_and_stops_cleanly(app, ctx):
    failing = Periodic(lambda: jobs.always_fails("cron"), "* * * * *", "default", "test.failing")
    cron = InlineCron([failing, _periodic("* * * * *", "loop")], start=datetime.now(UTC) - timedelta(minutes=2))
    stop = threading.Event()
    ran: list[str] = []

    def loop():
        with app.app_context():  # as under `flask cron`
            cron.run_forever(stop, ran.append)

    thread = threading.Thread(target=loop)
    thread.start()
    deadline = time.monotonic() + 5
    while len(ran) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=3)
    assert not thread.is_alive()
    assert ran == ["cron: ran test.failing", "cron: ran test.loop"]
    labels = [e.details.get("label") for e in db.session.scalars(select(AuditEntry))]
    assert labels == ["loop"]


def test_flask_cron_without_redis_runs_in_process_and_stops_on_sigterm():
    env = {**os.environ, "JOBS_BACKEND": "inline", "FLASK_APP": "wsgi.py", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "cron"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = process.stdout.readline()
        deadline = time.monotonic() + 20
        while "cron:" not in first and time.monotonic() < deadline:
            first = process.stdout.readline()
        assert "run in-process (no Redis)" in first
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "cron: stopped" in output


@needs_redis
def test_rq_cron_scheduler_registers_every_periodic_job_and_enqueues_when_due(app, ctx):
    periodic = load_job_modules()
    scheduler = build_cron_scheduler(app.extensions["tessera.redis"])
    assert [(j.name, j.cron, j.queue_name) for j in scheduler.get_jobs()] == [
        (namespace.key(p.name), p.cron, queue_name(p.queue)) for p in PERIODIC
    ]
    assert all(j.queue_name.startswith(f"tessera:{app.config['TESSERA_INSTANCE']}:") for j in scheduler.get_jobs())
    assert len(periodic) == len(PERIODIC)

    item = Periodic(jobs.tick, "*/5 * * * *", "maintenance", "tests.tick")
    scheduler = build_cron_scheduler(app.extensions["tessera.redis"], [item])
    (cron_job,) = scheduler.get_jobs()
    assert cron_job.cron == "*/5 * * * *" and cron_job.func is jobs.tick
    cron_job.next_enqueue_time = datetime.now(UTC) - timedelta(seconds=1)  # its time has come
    assert scheduler.enqueue_jobs() == [cron_job]
    assert get_queue("maintenance").count == 1
    _work(app, "maintenance")
    labels = [e.details.get("label") for e in db.session.scalars(select(AuditEntry))]
    assert labels == ["tick"]


def test_a_job_redis_refuses_waits_in_the_outbox(app, mailbox):
    """Redis went away after start-up: the request still succeeds; its e-mail waits in the outbox
    (sent once Redis is back: tests/core/test_outbox.py), never run twice or lost."""
    from tests.conftest import Browserish
    from webapp.jobs.models import JobOutbox
    from webapp.mail.models import EmailMessage

    down = make_app(
        {
            **shared_config(app),
            "TESTING": True,
            "JOBS_BACKEND": "rq",
            "REDIS_URL": "redis://127.0.0.1:9/0",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    client = Browserish(down.test_client())
    response = client.post("/auth/signup", {"email": "nored@example.com", "password": "correct horse battery"})
    assert response.status_code == 303
    assert mailbox.to("nored@example.com") == []
    with down.app_context():
        row = db.session.scalar(select(EmailMessage).where(EmailMessage.to_address == "nored@example.com"))
        assert row.status == EmailMessage.QUEUED
        (waiting,) = db.session.scalars(select(JobOutbox))
        assert waiting.func == "webapp.mail.jobs.deliver_email" and waiting.args == [row.id]
        assert waiting.dispatched_at is None
        db.session.remove()
        db.engine.dispose()
