"""Live streams in the README's run shape: a real web process (gunicorn, uvicorn workers) where a
stream holds no thread, with a heartbeat, a per-account cap and the polling fallback."""

from __future__ import annotations

import queue
import re
import threading
import time

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import REDIS_UP
from tests.factories import make_user
from tests.servers import login
from webapp.extensions import db
from webapp.notifications.models import LiveSession, Notification
from webapp.notifications.services import notify

pytestmark = pytest.mark.skipif(not REDIS_UP, reason="live delivery and the per-account cap go through Redis")


@pytest.fixture
def web(web_server):
    return web_server


class Stream:
    """One EventSource-like reader on its own thread; ``events`` receives (event, data) pairs."""

    def __init__(self, client: httpx.Client, path: str = "/notifications/stream"):
        self.events: queue.Queue = queue.Queue()
        self.status: int | None = None
        self.done = threading.Event()
        self._client, self._path = client, path
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        event = None
        try:
            with self._client.stream("GET", self._path, timeout=httpx.Timeout(10, read=30)) as response:
                self.status = response.status_code
                for line in response.iter_lines():
                    if self._stop:
                        break
                    if line.startswith(": heartbeat"):
                        self.events.put(("heartbeat", ""))
                    elif line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event:
                        self.events.put((event, line[6:]))
                        event = None
        except httpx.HTTPError:
            pass
        finally:
            self.done.set()

    def wait_for(self, name: str, timeout: float = 10, where=lambda data: True) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event, data = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if event == name and where(data):
                return data
        raise AssertionError(f"no {name!r} event within {timeout}s")

    def drain(self) -> list[tuple[str, str]]:
        items = []
        while True:
            try:
                items.append(self.events.get_nowait())
            except queue.Empty:
                return items

    def close(self) -> None:
        self._stop = True
        self._client.close()
        self.done.wait(10)


def signed_in(web, email: str) -> httpx.Client:
    client = httpx.Client(base_url=web, timeout=10)
    login(client, email)
    return client


def open_rows(user) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count(LiveSession.id)).where(LiveSession.user_id == user.id, LiveSession.status == "OPEN")
    )


def wait_until(check, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_a_notification_reaches_the_open_stream_at_once(ctx, web):
    user = make_user("live@example.com")
    db.session.commit()
    stream = Stream(signed_in(web, user.email), "/notifications/stream?client=tab-1")
    try:
        assert 'data-unread="0"' in stream.wait_for("count")
        assert stream.status == 200
        started = time.monotonic()
        notify(user, "general", "Your export is ready")
        db.session.commit()
        assert 'data-unread="1"' in stream.wait_for("count", 5)
        assert "Your export is ready" in stream.wait_for("notification", 5)
        assert time.monotonic() - started < 3
        assert wait_until(lambda: open_rows(user) == 1)
        assert db.session.scalar(select(LiveSession.client_id).where(LiveSession.user_id == user.id)) == "tab-1"
    finally:
        stream.close()
    assert wait_until(lambda: open_rows(user) == 0), "the live-session row stays open after the client left"


def test_forty_open_streams_hold_no_thread(ctx, web):
    users = [make_user(f"tab{i}@example.com") for i in range(8)]
    db.session.commit()
    clients = [signed_in(web, u.email) for u in users]
    streams = [Stream(c) for c in clients for _ in range(5)]
    try:
        for stream in streams:
            stream.wait_for("count")
        # 40 streams on 2 workers x 4 threads: pages and health still answer, quickly.
        for _ in range(10):
            started = time.perf_counter()
            assert httpx.get(f"{web}/healthz", timeout=5).status_code == 200
            assert clients[0].get("/notifications/").status_code == 200
            assert time.perf_counter() - started < 2
        notify(users[3], "general", "Only for tab3")
        db.session.commit()
        mine = streams[15:20]
        for stream in mine:
            assert "Only for tab3" in stream.wait_for("notification", 5)
        others = [event for s in streams[:15] + streams[20:] for event, _ in s.drain()]
        assert "notification" not in others
    finally:
        for stream in streams:
            stream.close()


def test_the_heartbeat_refreshes_the_row_and_catches_a_count_nobody_published(ctx, web):
    user = make_user("beat@example.com")
    db.session.commit()
    stream = Stream(signed_in(web, user.email))
    try:
        stream.wait_for("count")
        first_seen = db.session.scalar(select(LiveSession.last_seen_at).where(LiveSession.user_id == user.id))
        stream.wait_for("heartbeat", 5)
        # A row written without the pub/sub message (another tool, a lost message): the next beat finds it.
        db.session.add(Notification(user_id=user.id, type="general", title="Written behind our back"))
        db.session.commit()
        assert 'data-unread="1"' in stream.wait_for("count", 5)
        db.session.expire_all()
        assert wait_until(
            lambda: (
                db.session.scalar(select(LiveSession.last_seen_at).where(LiveSession.user_id == user.id)) > first_seen
            )
        )
    finally:
        stream.close()


def test_the_sixth_stream_of_an_account_closes_the_oldest(ctx, web):
    user = make_user("tabs@example.com")
    db.session.commit()
    client = signed_in(web, user.email)
    streams = []
    try:
        for _ in range(5):
            streams.append(Stream(client))
            streams[-1].wait_for("count")
        assert wait_until(lambda: open_rows(user) == 5)
        newest = Stream(client)
        newest.wait_for("count")
        reason = streams[0].wait_for("closed", 5)
        assert "5 other tabs" in reason and "refreshes every minute" in reason
        assert streams[0].done.wait(5)
        assert wait_until(lambda: open_rows(user) == 5)
        notify(user, "general", "Still live")
        db.session.commit()
        for stream in [*streams[1:], newest]:
            assert "Still live" in stream.wait_for("notification", 5)
    finally:
        for stream in [*streams, newest]:
            stream.close()


def test_without_a_session_the_stream_says_stop(web):
    response = httpx.get(f"{web}/notifications/stream", timeout=5)
    assert response.status_code == 204  # EventSource stops reconnecting
    assert httpx.post(f"{web}/notifications/stream", timeout=5).status_code == 405


def test_a_stream_for_another_organization_is_not_tied_to_it(ctx, web):
    from tests.factories import make_org

    owner = make_user("owner@example.com")
    outsider = make_user("outsider@example.com")
    org = make_org(owner)
    db.session.commit()
    stream = Stream(signed_in(web, outsider.email), f"/notifications/stream?org={org.id}")
    try:
        stream.wait_for("count")
        assert wait_until(lambda: open_rows(outsider) == 1)
        row = db.session.scalar(select(LiveSession).where(LiveSession.user_id == outsider.id))
        assert row.organization_id is None
    finally:
        stream.close()


def test_under_a_plain_wsgi_server_the_stream_answers_one_count_and_ends(ctx, client):
    """``flask run`` or any WSGI server: no thread held, EventSource comes back after one poll interval."""
    user = make_user("wsgi@example.com")
    db.session.commit()
    client.login(user.email)
    response = client.get("/notifications/stream")
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    body = response.get_data(as_text=True)
    assert body.startswith("retry: 60000\n") and "event: count" in body and 'data-unread="0"' in body
    assert db.session.scalar(select(func.count(LiveSession.id))) == 0  # a poll is not a live session


def test_sse_delivery_across_two_web_processes(ctx, tmp_path, sandbox_url):
    """The customer listens on process A; staff reply through process B; Redis carries it across."""
    from tests.conftest import DATABASE_URL, TEST_REDIS_URL
    from tests.factories import make_org
    from tests.servers import start_web
    from webapp.support import services

    customer = make_user("two@customer.example")
    org = make_org(customer, "Two Proc", "two-proc")
    make_user("two@tessera.example", staff=True)
    ticket = services.open_ticket(org, customer, "Across processes", "Does it arrive?")
    db.session.commit()
    env = {"DATABASE_URL": DATABASE_URL, "REDIS_URL": TEST_REDIS_URL, "SANDBOX_URL": sandbox_url}
    a, url_a = start_web(tmp_path, workers=1, **env)
    b, url_b = start_web(tmp_path, workers=1, **env)
    try:
        stream = Stream(signed_in(url_a, "two@customer.example"))
        assert 'data-unread="0"' in stream.wait_for("count")
        agent = signed_in(url_b, "two@tessera.example")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', agent.get(f"/admin/support/{ticket.id}").text)
        sent = agent.post(f"/admin/support/{ticket.id}/reply", data={"body": "It arrives.", "csrf_token": token[1]})
        assert sent.status_code == 303
        assert "Across processes" in stream.wait_for("notification", 10)
        stream.close()
        agent.close()
    finally:
        a.stop()
        b.stop()
