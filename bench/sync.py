"""freee import throughput: ``python bench/sync.py N`` (default 1000).

A sandbox company with N partners and N deals is seeded; an organization connects to it through
the real OAuth flow and runs one full import of partners and deals through the real provider client
over HTTP (the app serves itself on a free port). Reports records imported per second and the share
of the run spent waiting on the provider. Uses a throw-away SQLite database unless
BENCH_DATABASE_URL names another (e.g. a scratch PostgreSQL database).
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(n: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    os.environ.setdefault("INSTANCE_PATH", str(tmp / "instance"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    if database.startswith("postgresql://"):
        database = "postgresql+psycopg://" + database.removeprefix("postgresql://")

    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from tests.servers import start_sandboxes
    from webapp import create_app

    # The provider is its own process, with its own database (BENCH_SANDBOX_DATABASE_URL or SQLite).
    sandbox_db = os.environ.get("BENCH_SANDBOX_DATABASE_URL") or f"sqlite:///{tmp / 'sandboxes.sqlite3'}"
    sandboxes, sandbox_url = start_sandboxes(tmp, database_url=sandbox_db, instance_path=tmp / "sandbox-instance")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database,
            "BASE_URL": base,
            "SANDBOX_URL": sandbox_url,
            "JOBS_BACKEND": "inline",
            "SANDBOXES_ENABLED": True,
        }
    )
    with app.app_context():
        upgrade(revision="heads")
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    import httpx

    from webapp.auth import services as accounts
    from webapp.extensions import db
    from webapp.integrations import freee_sync, services
    from webapp.integrations.demo import connect_via_sandbox
    from webapp.integrations.jobs import run_freee_sync
    from webapp.integrations.models import FreeeSyncJob
    from webapp.orgs import services as orgs

    with app.app_context():
        seed = {"name": "Bench KK", "partners": n, "deals": n}
        company = httpx.post(f"{sandbox_url}/sandbox/freee/_control/seed", json=seed, timeout=600).json()["company_id"]
        user = accounts.sign_up(f"bench{port}@example.com", "correct horse battery", "Bench")
        org = orgs.create_organization(user, "Bench", f"bench-{port}", user.email, "JP", "Asia/Tokyo")
        db.session.commit()
        connection = connect_via_sandbox("freee", org, user, {"company_id": str(company)})
        job = services.start_freee_sync(connection, user, entity_types=["partners", "deals"], full_sync=True)
        db.session.commit()
        freee_sync.Stats.provider_seconds = 0.0
        started = time.perf_counter()
        run_freee_sync(job.id)
        elapsed = time.perf_counter() - started
        job = db.session.get(FreeeSyncJob, job.id)
        records = job.counts.get("partners", 0) + job.counts.get("deals", 0)
        waiting = freee_sync.Stats.provider_seconds
        print(f"database: {db.engine.dialect.name}; N = {n}; status {job.status}")
        print(f"imported {records} records (partners {job.counts.get('partners')}, deals {job.counts.get('deals')})")
        print(f"elapsed {elapsed:.2f} s → {records / elapsed:.0f} records/s")
        print(f"waiting on the provider: {waiting:.2f} s ({100 * waiting / elapsed:.0f}% of the run)")
    server.shutdown()
    sandboxes.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
