"""The job outbox: jobs are rows written with the change that asks for them, so a Redis outage delays
them and loses none; each runs once when Redis is back."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update

from tests.conftest import REDIS_UP, Browserish
from tests.core import jobs_for_tests as jobs
from tests.core.apps import make_app, shared_config
from tests.servers import start_redis
from tests.workers import work
from webapp.audit.models import AuditEntry
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.jobs import outbox
from webapp.jobs.models import JobOutbox
from webapp.jobs.runner import QUEUES, get_queue

needs_redis = pytest.mark.skipif(not REDIS_UP, reason="needs Redis at TEST_REDIS_URL")


def _burst(app) -> None:
    with app.app_context():
        work([get_queue(q) for q in QUEUES], app.extensions["tessera.redis"])


def _rows(app) -> list[JobOutbox]:
    with app.app_context():
        return list(db.session.scalars(select(JobOutbox).order_by(JobOutbox.id)))


def _audit_labels() -> list[str]:
    return [e.details.get("label") for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_a_redis_outage_delays_jobs_and_loses_none(app, mailbox, tmp_path):
    server, port = start_redis(tmp_path)
    try:
        outage = make_app(
            {
                **shared_config(app),
                "TESTING": True,
                "REDIS_URL": f"redis://127.0.0.1:{port}/0",
                "RATELIMIT_STORAGE_URI": "memory://",
                "JOBS_BACKEND": "rq",
                "JOBS_OUTBOX_STALE_SECONDS": 1,
            }
        )
        client = Browserish(outage.test_client())

        # Redis up: the row goes to RQ right after the commit (the fast path), stamped dispatched.
        answer = client.post("/auth/signup", {"email": "before@example.com", "password": "correct horse battery"})
        assert answer.status_code == 303
        (first,) = _rows(outage)
        assert first.dispatched_at is not None and first.func == "webapp.mail.jobs.deliver_email"
        with outage.app_context():
            assert get_queue("email").job_ids == [f"tessera-{outage.config['TESSERA_INSTANCE']}-outbox-{first.id}"]
        _burst(outage)
        assert len(mailbox.to("before@example.com")) == 1

        server.stop()  # Redis goes away
        addresses = [f"during{i}@example.com" for i in range(5)]
        for address in addresses:
            answer = Browserish(outage.test_client()).post(
                "/auth/signup", {"email": address, "password": "correct horse battery"}
            )
            assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
        waiting = [r for r in _rows(outage) if r.dispatched_at is None]
        assert len(waiting) == 5 and {r.queue for r in waiting} == {"email"}
        assert not any(mailbox.to(a) for a in addresses)  # delayed, not run in-process

        time.sleep(1.2)
        ready = outage.test_client().get("/readyz")
        body = ready.get_json()
        assert ready.status_code == 200 and body["status"] == "degraded", body
        assert body["checks"]["jobs"] == "degraded: 5 jobs waiting for Redis"
        assert body["checks"]["redis"].startswith("error: ")

        server, _ = start_redis(tmp_path, port=port)  # Redis is back, empty, on the same port
        with outage.app_context():
            assert outbox.relay() == 5
            assert outbox.relay() == 0  # nothing is moved twice
            assert get_queue("email").count == 5
        _burst(outage)
        for address in addresses:
            assert len(mailbox.to(address)) == 1, address
        with outage.app_context():
            assert outbox.relay() == 0
        _burst(outage)
        assert all(len(mailbox.to(a)) == 1 for a in addresses)
        assert len(mailbox.messages) == 6
        assert all(r.dispatched_at is not None for r in _rows(outage))
        body = outage.test_client().get("/readyz").get_json()
        assert body["status"] == "ok" and body["checks"]["jobs"] == "ok"
    finally:
        server.stop()
        with outage.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_real_worker_started_during_the_outage_relays_once_redis_is_back(app, smtp_server, tmp_path):
    """`flask worker` as deployed: started while Redis is away it waits, its relay thread moves the
    outbox once Redis answers, and its forked jobs send each e-mail once."""
    from tests.servers import start_worker

    mailbox, smtp_port = smtp_server
    server, port = start_redis(tmp_path)
    redis_url = f"redis://127.0.0.1:{port}/0"
    outage = make_app(
        {**shared_config(app), "TESTING": True, "REDIS_URL": redis_url, "RATELIMIT_STORAGE_URI": "memory://"}
    )
    assert outage.extensions["tessera.jobs_backend"] == "rq"
    server.stop()
    worker = start_worker(
        tmp_path,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=redis_url,
        JOBS_BACKEND="auto",  # as deployed: Redis does not answer as the worker starts
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_port),
        BASE_URL=app.config["BASE_URL"],
    )
    try:
        addresses = [f"worker{i}@example.com" for i in range(3)]
        for address in addresses:
            answer = Browserish(outage.test_client()).post(
                "/auth/signup", {"email": address, "password": "correct horse battery"}
            )
            assert answer.status_code == 303
        assert len([r for r in _rows(outage) if r.dispatched_at is None]) == 3
        time.sleep(1)
        assert worker.popen.poll() is None, worker.log()  # still up, waiting for Redis
        server, _ = start_redis(tmp_path, port=port)
        deadline = time.monotonic() + 60
        while not all(mailbox.to(a) for a in addresses) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert all(mailbox.to(a) for a in addresses), worker.log()
        time.sleep(6)  # a relay pass or more later: nothing is sent twice
        assert [len(mailbox.to(a)) for a in addresses] == [1, 1, 1]
        assert all(r.dispatched_at is not None for r in _rows(outage))
    finally:
        worker.stop()
        server.stop()
        with outage.app_context():
            db.session.remove()
            db.engine.dispose()


@needs_redis
def test_the_job_is_the_row_a_rollback_leaves_none(app, ctx):
    jobs.write_audit.delay("rolled-back")
    assert db.session.scalar(select(func.count(JobOutbox.id))) == 1  # in this transaction already
    db.session.rollback()
    db.session.commit()
    assert db.session.scalar(select(func.count(JobOutbox.id))) == 0
    assert get_queue("maintenance").count == 0


@needs_redis
def test_a_savepoint_released_before_the_commit_keeps_its_jobs_for_the_commit(app, ctx):
    # Releasing a savepoint fires SQLAlchemy's after_commit too; the jobs must wait for the real one.
    jobs.write_audit.delay("outside")
    with db.session.begin_nested():
        jobs.write_audit.delay("inside")
    assert get_queue("maintenance").count == 0  # nothing is sent before the transaction commits
    db.session.commit()
    assert get_queue("maintenance").count == 2
    assert db.session.scalar(select(func.count(JobOutbox.id)).where(JobOutbox.dispatched_at.is_(None))) == 0
    _burst(app)
    assert sorted(_audit_labels()) == ["inside", "outside"]


@needs_redis
def test_a_row_already_on_rq_is_stamped_never_enqueued_twice(app, ctx):
    jobs.write_audit.delay("once")
    db.session.commit()
    row = db.session.scalar(select(JobOutbox))
    assert row.dispatched_at is not None and get_queue("maintenance").count == 1
    # the stamp was lost (say the process died between RQ's answer and the commit): the relay finds
    # the job under the row's id and only stamps it
    db.session.execute(update(JobOutbox).values(dispatched_at=None))
    db.session.commit()
    assert outbox.relay() == 1
    assert get_queue("maintenance").count == 1
    _burst(app)
    assert _audit_labels() == ["once"]


@needs_redis
def test_scheduled_jobs_keep_their_time(app, ctx):
    at = utcnow() + timedelta(hours=1)
    jobs.write_audit.delay("later", at=at)
    db.session.commit()
    registry = get_queue("maintenance").scheduled_job_registry
    (job_id,) = registry.get_job_ids()
    assert abs((registry.get_scheduled_time(job_id) - at).total_seconds()) < 1


def test_job_arguments_must_be_json(app, ctx):
    if app.extensions["tessera.jobs_backend"] != "rq":
        pytest.skip("the outbox is the RQ backend's")
    with pytest.raises(TypeError, match="JSON"):
        jobs.write_audit.delay(utcnow())
    db.session.rollback()


@needs_redis
def test_the_worker_relay_thread_moves_waiting_rows(app, ctx):
    # a row that Redis refused earlier (written straight into the table, as the fast path left it)
    db.session.execute(
        insert(JobOutbox).values(
            func="tests.core.jobs_for_tests.write_audit",
            args=["relayed"],
            kwargs={},
            queue="maintenance",
            created_at=utcnow() - timedelta(minutes=1),
        )
    )
    db.session.commit()
    stop = outbox.start_relay_thread(app, every=0.2)
    try:
        deadline = time.monotonic() + 10
        while get_queue("maintenance").count == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
    assert get_queue("maintenance").count == 1
    _burst(app)
    assert _audit_labels() == ["relayed"]
    db.session.expire_all()
    assert db.session.scalar(select(JobOutbox.dispatched_at)) is not None


def test_old_dispatched_rows_are_pruned(app, ctx):
    old, recent = utcnow() - timedelta(days=8), utcnow() - timedelta(hours=1)
    values = {"func": "tests.core.jobs_for_tests.tick", "args": [], "kwargs": {}, "queue": "maintenance"}
    for label, created, dispatched in (("old", old, old), ("recent", recent, recent), ("waiting", old, None)):
        db.session.execute(
            insert(JobOutbox).values(**values, job_id=f"prune-{label}", created_at=created, dispatched_at=dispatched)
        )
    db.session.commit()
    assert outbox.prune_outbox() == 1
    assert set(db.session.scalars(select(JobOutbox.job_id))) == {"prune-recent", "prune-waiting"}
