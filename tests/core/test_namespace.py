"""Two Tessera instances on one Redis database: each one's jobs, counters and live notifications stay
its own (queue names, keys and channels all start with ``tessera:<instance>:``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import select

from tests.conftest import REDIS_UP, TEST_REDIS_URL, Browserish
from tests.core import jobs_for_tests as jobs
from tests.core.apps import make_app, shared_config
from webapp.audit.models import AuditEntry
from webapp.config import ConfigError
from webapp.extensions import db, limiter
from webapp.jobs import namespace
from webapp.jobs.runner import QUEUES, get_queue, queue_name

needs_redis = pytest.mark.skipif(not REDIS_UP, reason="needs Redis at TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parents[2]


def test_the_instance_comes_from_the_database_unless_set():
    a = namespace.derive_instance("postgresql+psycopg://postgres:secret@127.0.0.1:5432/tessera_a")
    assert a.startswith("tessera_a-") and len(a) == len("tessera_a-") + 8
    # the driver, the password and the query string do not change it; host, port or name do
    assert namespace.derive_instance("postgresql://postgres:other@127.0.0.1:5432/tessera_a?sslmode=off") == a
    assert namespace.derive_instance("postgresql://postgres@127.0.0.1:5433/tessera_a") != a
    assert namespace.derive_instance("postgresql://postgres@127.0.0.1:5432/tessera_b").startswith("tessera_b-")
    assert namespace.derive_instance("sqlite:////srv/one/tessera.sqlite3") != namespace.derive_instance(
        "sqlite:////srv/two/tessera.sqlite3"
    )
    assert namespace.derive_instance("sqlite:////srv/one/Tessera DB.sqlite3").startswith("tessera-db-")


def test_a_hostile_instance_name_stops_the_start(app):
    for bad in ("a:b", "../x", "x" * 65, "tab\tname"):
        with pytest.raises(ConfigError):
            make_app({**shared_config(app), "TESTING": True, "TESSERA_INSTANCE": bad, "JOBS_BACKEND": "inline"})


def test_every_queue_name_is_namespaced(app, ctx):
    prefix = f"tessera:{app.config['TESSERA_INSTANCE']}:"
    assert app.config["RATELIMIT_KEY_PREFIX"] == prefix
    assert [queue_name(q) for q in QUEUES] == [prefix + q for q in QUEUES]
    with pytest.raises(ValueError):
        queue_name("tessera:other:default")


@pytest.fixture
def other(app, tmp_path):
    """A second instance: its own (SQLite) database, the same Redis database as the suite's app."""
    other = make_app(
        {
            **shared_config(app),
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'other.sqlite3'}",
            "REDIS_URL": TEST_REDIS_URL,
            "RATELIMIT_STORAGE_URI": TEST_REDIS_URL,
            "JOBS_BACKEND": "rq",
        }
    )
    with other.app_context():
        db.create_all()
    yield other
    limiter._key_prefix = app.config["RATELIMIT_KEY_PREFIX"]  # one limiter per process: give it back
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def _labels(app) -> list[str]:
    with app.app_context():
        return [e.details.get("label") for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


@needs_redis
def test_a_worker_of_one_instance_never_runs_the_other_instances_jobs(app, other):
    assert app.config["TESSERA_INSTANCE"] != other.config["TESSERA_INSTANCE"]
    with app.app_context():
        jobs.write_audit.delay("for-the-suite")
        db.session.commit()
    with other.app_context():
        jobs.write_audit.delay("for-the-other")
        db.session.commit()
        assert get_queue("maintenance").count == 1

    # A real `flask worker --burst` for the suite's instance (derived from the same DATABASE_URL).
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": TEST_REDIS_URL,
        "JOBS_BACKEND": "rq",
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "worker", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert _labels(app) == ["for-the-suite"]
    assert _labels(other) == []
    with other.app_context():
        assert get_queue("maintenance").count == 1  # still waiting for its own worker
        from tests.workers import work

        work([get_queue(q) for q in QUEUES], other.extensions["tessera.redis"])
    assert _labels(other) == ["for-the-other"]
    assert _labels(app) == ["for-the-suite"]


@needs_redis
def test_rate_limit_counters_do_not_cross(app, other):
    from webapp.api import ratelimit

    # Flask-Limiter (sign-in throttling): each instance's counters under its own prefix.
    redis = Redis.from_url(TEST_REDIS_URL)
    mine, theirs = app.config["RATELIMIT_KEY_PREFIX"], other.config["RATELIMIT_KEY_PREFIX"]
    limiter._key_prefix = mine  # as in the suite's own process
    Browserish(app.test_client()).post("/auth/login", {"email": "nobody@example.com", "password": "wrong"})
    limiter._key_prefix = theirs  # as in the other instance's process
    Browserish(other.test_client()).post("/auth/login", {"email": "nobody@example.com", "password": "wrong"})
    keys = [k.decode() for k in redis.keys("LIMITS:*")]
    assert keys and all(mine in k or theirs in k for k in keys), keys
    counts = {prefix: [int(redis.get(k)) for k in keys if prefix in k] for prefix in (mine, theirs)}
    assert counts[mine] and counts[theirs]
    assert max(counts[mine]) == 1 and max(counts[theirs]) == 1  # one attempt each, never two

    # The API's hourly limit is Flask-Limiter's: it counts within an API request, under the process's prefix.
    limiter._key_prefix = mine
    with app.test_request_context("/api/v1/usage"):
        assert ratelimit.hit(1, 1, 2, None).remaining == 1
        assert ratelimit.hit(1, 1, 2, None).remaining == 0
        assert ratelimit.hit(1, 1, 2, None).refused == "rate_limited"
        assert ratelimit.api_calls_this_month(1) == 2
    limiter._key_prefix = theirs
    with other.test_request_context("/api/v1/usage"):
        first = ratelimit.hit(1, 1, 2, None)  # the same key and organization ids, another instance
        assert first.refused is None and first.remaining == 1
        assert ratelimit.api_calls_this_month(1) == 1

    # every key the API's limits wrote carries an instance prefix (Flask-Limiter's own "LIMITS:LIMITER/" before it)
    for k in redis.keys("*api*"):
        assert (
            k.decode()
            .removeprefix("LIMITS:LIMITER/")
            .startswith((f"tessera:{app.config['TESSERA_INSTANCE']}:", "tessera:" + other.config["TESSERA_INSTANCE"]))
        )


@needs_redis
def test_live_notifications_do_not_cross(app, other):
    from webapp.notifications.services import publish_after_commit, user_channel
    from webapp.notifications.streaming import StreamHub

    hub_mine, hub_theirs = StreamHub(app), StreamHub(other)
    assert hub_mine.user_prefix != hub_theirs.user_prefix
    assert hub_mine.control_channel != hub_theirs.control_channel
    redis = Redis.from_url(TEST_REDIS_URL)
    listeners = {}
    for name, hub in (("mine", hub_mine), ("theirs", hub_theirs)):
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        pubsub.psubscribe(hub.user_prefix + "*")  # what each web process's hub listens to
        listeners[name] = pubsub
    time.sleep(0.1)
    with app.app_context():
        publish_after_commit(user_channel(7), {"kind": "notification", "id": 1, "title": "for the suite"})
        db.session.commit()
    with other.app_context():
        publish_after_commit(user_channel(7), {"kind": "notification", "id": 1, "title": "for the other"})
        db.session.commit()

    def heard(pubsub) -> list[str]:
        found, deadline = [], time.monotonic() + 1.5
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.1)
            if message and message["type"] == "pmessage":
                found.append(json.loads(message["data"])["title"])
        return found

    assert heard(listeners["mine"]) == ["for the suite"]
    assert heard(listeners["theirs"]) == ["for the other"]
    for pubsub in listeners.values():
        pubsub.close()
