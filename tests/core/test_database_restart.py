"""A PostgreSQL restart, on a throwaway cluster this test owns (initdb + pg_ctl on a free port under a
temporary folder): connections are checked before use, a request during the outage answers a clean
503 (HTML and JSON), and the app recovers by itself when the server is back."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import Browserish
from tests.servers import free_port

BINDIRS = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
BINDIR = Path(BINDIRS[0]) if BINDIRS else None


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; CI and this machine run the suite as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


class Cluster:
    def __init__(self, root: Path):
        self.data, self.port = root / "data", free_port()
        self.log = root / "server.log"
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        self._run([str(BINDIR / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"])

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(_as_postgres(argv), capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{argv[0]} failed: {done.stdout}{done.stderr}"

    def ctl(self, *args: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        self._run([str(BINDIR / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, *args])

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def cluster():
    if BINDIR is None or not (BINDIR / "initdb").exists():
        pytest.skip("needs the PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
    # Not under pytest's temporary folder: the postgres user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="tessera-pg-"))
    root.chmod(0o755)
    try:
        cluster = Cluster(root)
        cluster.ctl("start")
        yield cluster
        cluster.ctl("stop", "-m", "immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def outage_app(cluster, smtp_server, sandbox_server, tmp_path):
    """A second Tessera app on the throwaway cluster (schema from the migrations, one signed-in user)."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.extensions import db

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": cluster.url,
            "JOBS_BACKEND": "inline",
            "RATELIMIT_STORAGE_URI": "memory://",
            "SANDBOX_URL": sandbox_server,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_server[1],
            "STORAGE_PATH": str(tmp_path / "storage"),
        }
    )
    with app.app_context():
        upgrade()
        from tests.factories import make_org, make_user

        user = make_user("night@example.com")
        make_org(user, "Night Shift", "night-shift")
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_connections_are_checked_before_use(outage_app):
    from webapp.extensions import db

    assert outage_app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    with outage_app.app_context():
        assert db.engine.pool._pre_ping is True


def test_a_restart_between_requests_costs_nothing(outage_app, cluster):
    client = Browserish(outage_app.test_client())
    client.login("night@example.com")
    assert client.get("/o/night-shift/").status_code == 200
    cluster.ctl("restart", "-m", "fast")  # every pooled connection is now dead
    assert client.get("/o/night-shift/").status_code == 200
    assert client.get("/account/").status_code == 200


def test_a_request_during_the_outage_gets_a_clean_503_and_the_app_recovers(outage_app, cluster):
    client = Browserish(outage_app.test_client())
    client.login("night@example.com")
    assert client.get("/o/night-shift/").status_code == 200
    cluster.ctl("stop", "-m", "fast")

    page = client.get("/o/night-shift/")
    assert page.status_code == 503 and page.headers["Retry-After"] == "15"
    html = page.get_data(as_text=True)
    assert "cannot reach its database" in html and "Traceback" not in html
    answer = client.get("/api/v1/usage", headers={"Authorization": "Bearer tsk_whatever"})
    assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "database_unavailable"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert client.get("/healthz").status_code == 200  # the process itself is alive

    cluster.ctl("start")
    assert client.get("/o/night-shift/").status_code == 200  # by itself: no restart of the app
    assert client.get("/readyz").status_code == 200
