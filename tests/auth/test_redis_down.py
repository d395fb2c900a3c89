"""Issue 13, point 5: with Redis gone, sign-in and the API keep working and their limits count in memory.

The web process runs in the README's run shape (one worker, so its memory is the one that counts) on a
Redis server this test starts on a free loopback port and then kills; ``/readyz`` and the console's
alerts say the limits are degraded.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import httpx
import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import select

from tests.api.helpers import bearer, org_with_key
from tests.conftest import DATABASE_URL
from tests.factories import PASSWORD, make_user
from tests.servers import free_port, login, start_web
from webapp.alerts.models import SystemAlert
from webapp.core.ratelimits import ALERT_MESSAGE, ALERT_SOURCE, DEGRADED
from webapp.extensions import db

REDIS_SERVER = shutil.which("redis-server")


class RedisServer:
    def __init__(self, port: int):
        self.port, self.url = port, f"redis://127.0.0.1:{port}/0"
        self.popen = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                if Redis.from_url(self.url, socket_connect_timeout=0.5).ping():
                    return
            except RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)


@pytest.fixture
def doomed_redis():
    if REDIS_SERVER is None:
        pytest.skip("needs redis-server")
    server = RedisServer(free_port())
    yield server
    server.kill()


@pytest.fixture
def web_on_doomed_redis(app, doomed_redis, tmp_path, sandbox_server, smtp_server):
    process, url = start_web(
        tmp_path,
        workers=1,
        threads=2,
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=doomed_redis.url,
        JOBS_BACKEND="rq",
        SANDBOX_URL=sandbox_server,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_server[1]),
        LOGIN_LIMIT_PER_IP="1000/minute",
        LOGIN_LIMIT_PER_ACCOUNT="3/minute",
        STRICT_TRANSACTIONS="1",
    )
    yield url
    process.stop()


def _attempt(client: httpx.Client, email: str, password: str = "not the password") -> int:
    page = client.get("/auth/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})
    return answer.status_code


def test_sign_in_and_the_api_keep_working_when_redis_goes_away(app, doomed_redis, web_on_doomed_redis, ctx):
    url = web_on_doomed_redis
    make_user("owner@example.com")
    make_user("guessed@example.com")
    _, _, _, plain = org_with_key(rate_limit=5)
    db.session.commit()

    with httpx.Client(base_url=url, timeout=30) as before:
        ready = before.get("/readyz").json()
        assert ready["status"] == "ok" and ready["checks"]["rate_limits"] == "ok"
        assert before.get("/api/v1/usage", headers=bearer(plain)).status_code == 200
        assert Redis.from_url(doomed_redis.url).keys("LIMITER*") == []  # no limited route yet
        login(before, "owner@example.com")
        assert Redis.from_url(doomed_redis.url).dbsize() > 0  # the counters were in Redis

    doomed_redis.kill()

    ready = httpx.get(f"{url}/readyz", timeout=30)
    assert ready.status_code == 200  # still serving, so still ready
    assert ready.json()["status"] == "degraded" and ready.json()["checks"]["rate_limits"] == DEGRADED
    assert ready.json()["checks"]["redis"].startswith("error: ")

    # The right password signs in; wrong ones are still throttled, now in memory.
    with httpx.Client(base_url=url, timeout=30) as owner:
        login(owner, "owner@example.com")
        assert owner.get("/account/").status_code == 200
    with httpx.Client(base_url=url, timeout=30) as stranger:
        assert [_attempt(stranger, "guessed@example.com") for _ in range(4)] == [200, 200, 200, 429]
        assert _attempt(stranger, "guessed@example.com", PASSWORD) == 429

    # The API answers, and its hourly limit of 5 holds in memory (counting from zero: the call Redis saw is not seen).
    statuses = [httpx.get(f"{url}/api/v1/usage", headers=bearer(plain), timeout=30).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    other_key = org_with_key(email="second@example.com")[3]
    db.session.commit()
    for path in ("/api/v1/services", "/api/v1/invoices"):
        assert httpx.get(f"{url}{path}", headers=bearer(other_key), timeout=30).status_code == 200
    batch = {"events": [{"event_id": "down-1", "event_type": "api.request", "timestamp": "2026-12-03T09:00:00Z"}]}
    posted = httpx.post(f"{url}/api/v1/usage-events", json=batch, headers=bearer(other_key), timeout=30)
    assert posted.status_code == 200, posted.text

    # The console's alerts say so, once.
    deadline = time.monotonic() + 15
    while True:
        db.session.expire_all()
        alerts = list(db.session.scalars(select(SystemAlert).where(SystemAlert.source == ALERT_SOURCE)))
        if alerts or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [a.message for a in alerts] == [ALERT_MESSAGE]
    assert alerts[0].resolved_at is None
