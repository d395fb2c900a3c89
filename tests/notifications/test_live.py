import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, func, select

from tests.conftest import DATABASE_URL, REDIS_UP, TEST_REDIS_URL
from tests.factories import make_org, make_user
from tests.notifications.live_helpers import EventReader, csrf, http_login
from webapp.extensions import db
from webapp.notifications import jobs, notify
from webapp.notifications.models import LiveSession
from webapp.settings.services import update_setting

pytestmark = pytest.mark.skipif(not REDIS_UP, reason="live delivery goes through Redis pub/sub")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bell_counts_live_and_the_session_is_recorded(app, live_server):
    with app.app_context():
        user = make_user("live@example.com")
        user_id = user.id
        make_org(user, "Live Co", "live-co")
        update_setting("notifications.heartbeat_seconds", "1", None)
        db.session.commit()
    client = http_login(live_server, "live@example.com")
    with client.stream("GET", "/notifications/stream?client=tab-1") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = EventReader(response)
        assert 'data-unread="0"' in events.next_event("count")
        with app.app_context():
            row = db.session.scalar(select(LiveSession).where(LiveSession.client_id == "tab-1"))
            assert row.status == "OPEN" and row.user_id == user_id
            notify(user_id, "general", "Hello live", "body")
            db.session.commit()
        events.wait_for("count", 'data-unread="1"')
        assert "Hello live" in events.next_event("notification")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with app.app_context():
            status = db.session.scalar(select(LiveSession.status).where(LiveSession.client_id == "tab-1"))
        if status == "CLOSED":
            break
        time.sleep(0.3)
    assert status == "CLOSED"
    client.close()


def test_silent_sessions_are_cleaned_and_staff_see_the_open_count(app, client):
    import time_machine

    with app.app_context():
        # A stream of the previous test may still be winding down on the live server: let it close,
        # then start from an empty table so the counts below are this test's alone.
        deadline = time.monotonic() + 10
        while db.session.scalar(select(func.count()).select_from(LiveSession).where(LiveSession.status == "OPEN")):
            if time.monotonic() > deadline:
                break
            db.session.rollback()
            time.sleep(0.2)
        db.session.execute(delete(LiveSession))
        db.session.commit()
        user = make_user("quiet@example.com")
        staff = make_user("ops@example.com", staff=True)
        from webapp.notifications import live

        with time_machine.travel("2026-05-01 10:00:00+00:00", tick=False):
            live.open_session(user.id, None, "old-tab")
        live.open_session(user.id, None, "fresh-tab")
        db.session.commit()
        assert staff.id
    client.login("ops@example.com")
    assert ">2</strong>" in client.get("/admin/live/").get_data(as_text=True)
    with app.app_context():
        assert jobs.close_silent_sessions() == 1
    page = client.get("/admin/live/").get_data(as_text=True)
    assert ">1</strong>" in page and "STALE" in page


SERVE = """
import sys
from werkzeug.serving import make_server
from webapp import create_app
db_url, redis_url, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "REDIS_URL": redis_url, "RATELIMIT_STORAGE_URI": redis_url,
                  "JOBS_BACKEND": "rq", "BASE_URL": f"http://127.0.0.1:{port}",
                  "LOGIN_LIMIT_PER_IP": "1000/minute", "LOGIN_LIMIT_PER_ACCOUNT": "1000/minute"})
print("ready", flush=True)
make_server("127.0.0.1", port, app, threaded=True).serve_forever()
"""


def _start(port: int, log_path: Path) -> subprocess.Popen:
    root = Path(__file__).resolve().parents[2]
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-c", SERVE, DATABASE_URL, TEST_REDIS_URL, str(port)],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _wait(port: int, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log_path.read_text()[-3000:])
        try:
            httpx.get(f"http://127.0.0.1:{port}/auth/login", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not start")


def test_sse_delivery_across_two_web_processes(app, ctx, tmp_path):
    """The customer listens on process A; staff reply through process B; Redis carries it across."""
    customer = make_user("two@customer.example")
    org = make_org(customer, "Two Proc", "two-proc")
    make_user("two@tessera.example", staff=True)
    from webapp.support import services

    ticket = services.open_ticket(org, customer, "Across processes", "Does it arrive?")
    update_setting("notifications.heartbeat_seconds", "2", None)
    db.session.commit()
    ticket_id = ticket.id
    port_a, port_b = _free_port(), _free_port()
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    a, b = _start(port_a, log_a), _start(port_b, log_b)
    try:
        _wait(port_a, a, log_a)
        _wait(port_b, b, log_b)
        listener = http_login(f"http://127.0.0.1:{port_a}", "two@customer.example")
        agent = http_login(f"http://127.0.0.1:{port_b}", "two@tessera.example")
        with listener.stream("GET", "/notifications/stream?client=proc-a") as response:
            events = EventReader(response)
            assert 'data-unread="0"' in events.next_event("count")
            token = csrf(agent, f"/admin/support/{ticket_id}")
            sent = agent.post(f"/admin/support/{ticket_id}/reply", data={"body": "It arrives.", "csrf_token": token})
            assert sent.status_code == 303
            events.wait_for("count", 'data-unread="1"')
            assert "Across processes" in events.next_event("notification")
        listener.close()
        agent.close()
    finally:
        for process in (a, b):
            process.terminate()
            process.wait(10)
