"""Test harness: a real database (PostgreSQL when TEST_DATABASE_URL says so, else SQLite), real
Redis when it answers, a real SMTP server, and a client that carries the CSRF token like a browser."""

from __future__ import annotations

import os
import re
import socket
import tempfile
import threading
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import inspect, text
from werkzeug.serving import make_server

# Under pytest-xdist each worker (gw0, gw1, …) has a database and a Redis database of its own: every
# test truncates the tables and flushes Redis, which must not reach a test running beside it.
WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
if WORKER:
    _base, _, _number = TEST_REDIS_URL.rpartition("/")
    TEST_REDIS_URL = f"{_base}/{int(_number or 0) - WORKER}"
_tmp = Path(tempfile.mkdtemp(prefix="tessera-tests-"))
os.environ.setdefault("INSTANCE_PATH", str(_tmp / "instance"))


def _redis_up() -> bool:
    try:
        return bool(Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1).ping())
    except RedisError:
        return False


REDIS_UP = _redis_up()
DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_tmp / 'test.sqlite3'}"
if DATABASE_URL.startswith("postgresql://"):
    DATABASE_URL = "postgresql+psycopg://" + DATABASE_URL.removeprefix("postgresql://")
IS_POSTGRES = DATABASE_URL.startswith("postgresql")


def _worker_database(url: str) -> str:
    """The worker's own PostgreSQL database beside the one TEST_DATABASE_URL names, created if missing."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    main = make_url(url)
    own = main.set(database=f"{main.database}_w{WORKER}")
    engine = create_engine(main, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}):
            conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    engine.dispose()
    return own.render_as_string(hide_password=False)


if IS_POSTGRES and WORKER:
    DATABASE_URL = _worker_database(DATABASE_URL)


CHROMIUM = "/usr/bin/chromium"
REQUIRE_ALL = os.environ.get("TESSERA_REQUIRE_ALL") == "1"


def pytest_configure(config):
    if REQUIRE_ALL:
        missing = [
            name
            for name, ok in (
                ("PostgreSQL (TEST_DATABASE_URL)", IS_POSTGRES),
                ("Redis", REDIS_UP),
                ("Chromium", Path(CHROMIUM).exists()),
            )
            if not ok
        ]
        if missing:
            pytest.exit(f"TESSERA_REQUIRE_ALL is set but these are missing: {', '.join(missing)}", returncode=3)


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set TEST_DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords and not IS_POSTGRES:
            item.add_marker(skip_pg)


class Mailbox:
    """Messages received by the SMTP server the tests start."""

    def __init__(self):
        self.messages: list = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 OK"

    def clear(self):
        with self.lock:
            self.messages.clear()

    def to(self, address: str) -> list:
        return [m for m in self.messages if address.lower() in m["To"].lower()]

    def last_to(self, address: str):
        found = self.to(address)
        assert found, f"no e-mail to {address}; got {[m['To'] for m in self.messages]}"
        return found[-1]

    @staticmethod
    def text(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    def link(self, address: str, pattern: str = r"https?://\S+") -> str:
        body = self.text(self.last_to(address))
        match = re.search(pattern, body)
        assert match, body
        return match.group(0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield mailbox, controller.port
    controller.stop()


LIVE_PORT = _free_port()
LIVE_URL = f"http://127.0.0.1:{LIVE_PORT}"
SANDBOX_DATABASE_URL = f"sqlite:///{_tmp / 'sandboxes.sqlite3'}"


@pytest.fixture(scope="session")
def sandbox_server():
    """The provider sandboxes as a real process of their own (own port, own SQLite database)."""
    from tests.servers import start_sandboxes

    process, url = start_sandboxes(
        _tmp,
        database_url=SANDBOX_DATABASE_URL,
        instance_path=_tmp / "sandbox-instance",
        STRIPE_SANDBOX_WEBHOOK_URL=f"{LIVE_URL}/webhooks/stripe",  # the merchant's endpoint, as in Stripe's dashboard
    )
    yield url
    process.stop()


@pytest.fixture
def sandbox_url(sandbox_server):
    return sandbox_server


@pytest.fixture
def sandbox_db(sandbox_server):
    """A session on the sandbox process's database, for tests that look at what the provider stored."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(SANDBOX_DATABASE_URL, connect_args={"timeout": 30})
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture(scope="session")
def app(smtp_server, sandbox_server):
    from webapp import create_app

    _, port = smtp_server
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
            "REDIS_URL": TEST_REDIS_URL,
            "RATELIMIT_STORAGE_URI": TEST_REDIS_URL if REDIS_UP else "memory://",
            "JOBS_BACKEND": "rq" if REDIS_UP else "inline",
            "BASE_URL": LIVE_URL,
            "SANDBOX_URL": sandbox_server,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "LOGIN_LIMIT_PER_IP": "1000/minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "1000/minute",
            "STORAGE_PATH": str(_tmp / "storage"),
            # Routes commit only through core.transaction.perform(): a commit anywhere else in a request
            # raises. On for every test; TESSERA_STRICT_TRANSACTIONS=0 turns it off to bisect.
            "STRICT_TRANSACTIONS": os.environ.get("TESSERA_STRICT_TRANSACTIONS") != "0",
        }
    )
    from flask_migrate import upgrade

    from webapp.extensions import db

    with app.app_context():
        if IS_POSTGRES:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
    server = make_server("127.0.0.1", LIVE_PORT, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def web_server(app, tmp_path_factory, sandbox_server):
    """The web process in the README's run shape on a free port (gunicorn, 2 uvicorn workers x 4 page
    threads, live streams on their event loops), on the suite's database and Redis, with a 1-second
    stream heartbeat. Its URL is its own BASE_URL."""
    from tests.servers import start_web
    from webapp.extensions import db
    from webapp.settings.services import update_setting

    with app.app_context():
        update_setting("notifications.heartbeat_seconds", "1", None)
        db.session.commit()
    process, url = start_web(
        tmp_path_factory.mktemp("web"),
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=TEST_REDIS_URL,
        SANDBOX_URL=sandbox_server,
        JOBS_BACKEND="rq" if REDIS_UP else "inline",
        LOGIN_LIMIT_PER_IP="1000/minute",
        LOGIN_LIMIT_PER_ACCOUNT="1000/minute",
        STORAGE_PATH=app.config["STORAGE_PATH"],  # files the suite stores are the ones the web process serves
    )
    yield url
    process.stop()


def _truncate_all(app):
    from webapp.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        existing = set(inspect(conn).get_table_names())
        tables = [t.name for t in db.metadata.sorted_tables if t.name in existing]
        if IS_POSTGRES:
            # A test that leaves a transaction open should fail the run, not hang it.
            conn.execute(text("SET LOCAL lock_timeout = '20s'"))
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture(autouse=True)
def clean_state(app, smtp_server, sandbox_server):
    """Every test starts with empty tables, an empty mailbox, empty queues and fresh sandboxes."""
    yield
    import httpx

    httpx.post(f"{sandbox_server}/_sandbox/reset", timeout=30).raise_for_status()
    from webapp.extensions import db

    with app.app_context():
        db.session.remove()
    _truncate_all(app)
    smtp_server[0].clear()
    if REDIS_UP:
        Redis.from_url(TEST_REDIS_URL).flushdb()
    # Counts Flask-Limiter kept in memory while Redis did not answer (a slow moment under load) would
    # otherwise carry one test's failed sign-ins into the next; the memory store is its own, not ours.
    from webapp.extensions import limiter

    fallback = getattr(limiter, "_fallback_storage", None)
    if fallback is not None:
        fallback.reset()
    from webapp.jobs import runner

    runner._local.backlog = []


@pytest.fixture
def live_server(app):
    """The same app served over real HTTP (for the browser, and for sandboxes calling back into the
    product): its URL is ``BASE_URL``."""
    return LIVE_URL


@pytest.fixture
def ctx(app):
    """An application context for calling services directly."""
    with app.app_context() as context:
        yield context


@pytest.fixture
def mailbox(smtp_server):
    return smtp_server[0]


@pytest.fixture
def run_jobs(app):
    """Run every queued job now, the way a worker would (RQ when Redis is up, else in-process): the
    outbox rows its relay would move, and the retries whose time has come (the worker's scheduler)."""

    def run():
        from webapp.jobs import drain_inline

        with app.app_context():
            drain_inline()
            if app.extensions["tessera.jobs_backend"] == "rq":
                from tests.workers import work
                from webapp.jobs import QUEUES, outbox
                from webapp.jobs.runner import get_queue

                outbox.relay()
                work([get_queue(q) for q in QUEUES], app.extensions["tessera.redis"], with_scheduler=True)

    return run


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


class Browserish:
    """A test client that keeps the CSRF token the way a page would and sends it with every form."""

    def __init__(self, client):
        self.client = client
        self._token = None
        plain_open = client.open

        def open_with_fresh_g(*args, **kwargs):
            # With the `ctx` fixture pushed, every request reuses that app context, so `g` (Flask-Login's
            # user, the CSRF token, g.org) would leak from one client's request into another's.
            from flask import g, has_app_context

            if has_app_context():
                for key in list(vars(g)):
                    delattr(g, key)
            return plain_open(*args, **kwargs)

        client.open = open_with_fresh_g

    def __getattr__(self, name):
        return getattr(self.client, name)

    def csrf(self) -> str:
        if self._token is None:
            page = self.client.get("/auth/reset").get_data(as_text=True)
            match = CSRF_RE.search(page)
            assert match, "no CSRF token on the page"
            self._token = match.group(1) or match.group(2)
        return self._token

    def post(self, url, data=None, *, csrf=True, htmx=False, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf())
        headers = dict(kw.pop("headers", {}) or {})
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.post(url, data=data, headers=headers, **kw)

    def get(self, url, *, htmx=False, **kw):
        headers = dict(kw.pop("headers", {}) or {})
        if htmx:
            headers["HX-Request"] = "true"
        return self.client.get(url, headers=headers, **kw)

    def login(self, email, password="correct horse battery"):
        response = self.post("/auth/login", {"email": email, "password": password})
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        self._token = None
        return response


@pytest.fixture
def client(app):
    return Browserish(app.test_client())


@pytest.fixture
def make_client(app):
    return lambda: Browserish(app.test_client())
