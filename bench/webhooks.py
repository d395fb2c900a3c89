"""Webhook delivery benchmark: N events fanned out to 10 endpoints on loopback (5 ordered, 5 not),
delivered by 2 RQ worker processes through the guarded outbound client.

    .venv/bin/python bench/webhooks.py 1000

Reports deliveries per second (first event recorded → last delivery received), the lag from an
event's creation to its arrival (median, p95, max), and checks every delivery arrived exactly once
and the ordered endpoints got their events in creation order.

Environment: BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/tessera_bench_webhooks,
dropped and re-created), BENCH_REDIS_URL (default redis://127.0.0.1:6379/5, flushed), BENCH_WORKERS (2).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _shared import free_port, percentile, recreate_database  # noqa: E402 (bench/ is the script's folder)

ENDPOINTS = 10


class Receiver:
    def __init__(self):
        self.received: list[tuple[str, str, float]] = []  # (path, event id, arrival)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                event_id = json.loads(body)["id"]
                with receiver.lock:
                    receiver.received.append((self.path, event_id, time.time()))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main(n: int) -> int:
    database = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/tessera_bench_webhooks")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    instance = tempfile.mkdtemp(prefix="tessera-bench-")
    os.environ.update(
        DATABASE_URL=database,
        REDIS_URL=redis_url,
        BASE_URL=f"http://127.0.0.1:{free_port()}",
        JOBS_BACKEND="rq",
        INSTANCE_PATH=instance,
        STORAGE_PATH=str(Path(instance) / "storage"),
        RATELIMIT_STORAGE_URI="memory://",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(free_port()),
    )
    if database.startswith("postgresql"):
        recreate_database(database)

    from flask_migrate import upgrade
    from redis import Redis
    from sqlalchemy import select

    from webapp import create_app
    from webapp.extensions import db

    Redis.from_url(redis_url).flushdb()
    receiver = Receiver()
    app = create_app()
    procs = []
    try:
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"), revision="heads")
            from webapp.auth import services as accounts
            from webapp.developers import services
            from webapp.developers.models import Event
            from webapp.orgs import services as orgs
            from webapp.settings.services import update_setting

            update_setting("outbound.allowed_internal_hosts", "127.0.0.1", None)
            user = accounts.sign_up("bench@example.com", "correct horse battery", "Bench")
            org = orgs.create_organization(user, "Bench", "bench-hooks", user.email, "ZW", "Africa/Harare")
            endpoints = []
            for i in range(ENDPOINTS):
                url = f"http://127.0.0.1:{receiver.port}/e{i}"
                endpoint, _ = services.create_endpoint(org, user, url, ["invoice.paid"], ordered=i % 2 == 0)
                endpoints.append(endpoint)
            db.session.commit()
            ordered_paths = {f"/e{i}" for i in range(0, ENDPOINTS, 2)}

            env = dict(os.environ)
            for i in range(workers):
                log = (Path(instance) / f"worker{i}.log").open("w")
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "flask", "--app", "wsgi.py", "worker", "--queues", "integrations"],
                        cwd=ROOT,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                    )
                )
            # The clock starts once every worker listens (starting one takes over a minute on a loaded machine).
            logs = [Path(instance) / f"worker{i}.log" for i in range(workers)]
            until = time.monotonic() + 300
            while time.monotonic() < until and not all("Listening on" in log.read_text() for log in logs):
                time.sleep(0.5)
            print(f"{n} events x {ENDPOINTS} endpoints ({len(ordered_paths)} ordered), {workers} workers")
            started = time.time()
            for start in range(0, n, 50):  # events arrive as a busy organization's would: 50 per transaction
                for i in range(start, min(n, start + 50)):
                    services.record_event(org.id, "invoice.paid", {"object": "invoice", "id": i})
                db.session.commit()
            recorded = time.time()
            expected = n * ENDPOINTS
            deadline = time.monotonic() + 900
            while len(receiver.received) < expected and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1)  # anything extra (a duplicate) would arrive now
            from sqlalchemy import func

            from webapp.developers.models import WebhookDelivery

            db.session.rollback()
            succeeded, sent_once = db.session.execute(
                select(
                    func.count().filter(WebhookDelivery.status == "SUCCEEDED"),
                    func.count().filter(WebhookDelivery.attempts == 1),
                ).where(WebhookDelivery.organization_id == org.id)
            ).one()
            created = {
                e.public_id: (e.id, e.created_at.timestamp())
                for e in db.session.scalars(select(Event).where(Event.organization_id == org.id))
            }
        received = list(receiver.received)
        pairs = [(path, event_id) for path, event_id, _ in received]
        duplicates = len(pairs) - len(set(pairs))
        lags = [arrival - created[event_id][1] for _, event_id, arrival in received if event_id in created]
        in_order = True
        for path in ordered_paths:
            ids = [created[event_id][0] for p, event_id, _ in received if p == path]
            in_order = in_order and ids == sorted(ids)
        last = max(arrival for *_, arrival in received) if received else time.time()
        print(f"recorded {n} events in {recorded - started:.1f} s")
        print(
            f"delivered {len(received):,} of {expected:,} in {last - started:.1f} s: "
            f"{len(received) / max(last - started, 1e-9):.0f} deliveries/s"
        )
        if lags:
            print(
                f"lag event → arrival: median {statistics.median(lags):.2f} s, "
                f"p95 {percentile(lags, 95):.2f} s, max {max(lags):.2f} s"
            )
        print(f"duplicates: {duplicates}; ordered endpoints in creation order: {in_order}")
        print(f"deliveries SUCCEEDED: {succeeded:,}, sent in one attempt: {sent_once:,}")
        print("load average (1, 5, 15 min): " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
        ok = len(received) == expected and duplicates == 0 and in_order and succeeded == expected
        print("OK" if ok else "NOT OK")
        return 0 if ok else 1
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        receiver.server.shutdown()


if __name__ == "__main__":
    print(datetime.now(UTC).isoformat(timespec="seconds"))
    raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
