"""Provider-callback benchmark (issue 14 point 2; not a timed test).

Starts the web process as the README's run shape does (2 workers x 4 threads), RQ workers on the
billing queue and the sandbox process on a fresh PostgreSQL database, makes Paynow express payments
against the Paynow sandbox, marks them paid there, then sends valid, hashed result-URL callbacks
all at once and measures how fast they are answered, then how long until the workers applied them:

  (a) ``same``:     200 identical callbacks for one payment  -> applied once
  (b) ``distinct``: 200 callbacks, one for each of 200 payments -> each applied once

Goal: p95 < 200 ms for the answers, every payment applied exactly once.

    python bench/callbacks.py [--pg postgresql://postgres@127.0.0.1:5432] [--redis redis://127.0.0.1:6379/3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _shared import free_port, percentile  # noqa: E402 (bench/ is the script's folder)

from tests.servers import start_sandboxes, start_web  # noqa: E402  (the run shape, as the tests start it)

PYTHON = sys.executable
WEB_ENV = ("DATABASE_URL", "REDIS_URL", "RATELIMIT_STORAGE_URI", "INSTANCE_PATH", "JOBS_BACKEND", "SANDBOX_URL")
GOAL_MS = 200

SETUP = """
import json, sys
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from webapp import create_app
from webapp.extensions import db
app = create_app()
count = int(sys.argv[1])
sandbox = Session(create_engine(sys.argv[2], connect_args={"timeout": 30}))
with app.app_context(), app.test_request_context(base_url=app.config["BASE_URL"]):
    from datetime import date
    from webapp.auth import services as accounts
    from webapp.orgs import services as orgs
    from webapp.billing import services as billing
    from webapp.billing.providers.paynow import PROVIDER
    from webapp.integrations.providers.paynow import make_hash
    from webapp.integrations.sandboxes.paynow import SandboxPaynowTransaction
    user = accounts.sign_up("bench@example.com", "bench password 123", "Bench")
    org = orgs.create_organization(user, "Bench", "bench-org", "bench@example.com")
    account = billing.billing_account_for(org)
    key = app.config["PAYNOW_INTEGRATION_KEY"]
    bodies = []
    for n in range(count):
        invoice = billing.create_draft_invoice(account, period_start=date(2026, 10, 1), period_end=date(2026, 10, 31))
        billing.add_line_item(invoice, "Terminal", 1, 10_000)
        billing.finalize_invoice(invoice, None, send_email=False)
        payment = PROVIDER.begin(invoice, "PAYNOW_ECOCASH", phone="0779999999")  # stays Sent
        db.session.commit()
        PROVIDER.send(payment, return_url=app.config["BASE_URL"] + "/", cancel_url=None)
        db.session.commit()
        txn = sandbox.query(SandboxPaynowTransaction).filter_by(reference=payment.external_reference).one()
        txn.status = "Paid"  # the customer approved on the phone (in the sandbox process's database)
        sandbox.commit()
        fields = [("reference", payment.external_reference), ("paynowreference", txn.paynow_reference),
                  ("amount", txn.amount), ("status", "Paid"), ("pollurl", payment.poll_url)]
        bodies.append([*fields, ("hash", make_hash(fields, key))])
    print(json.dumps(bodies))
"""


async def fire(url: str, bodies: list, path: str = "/webhooks/paynow") -> tuple[list[float], list[int]]:
    """Send every body at once (a ``None`` body is a GET): returns the seconds and status codes."""
    from urllib.parse import urlencode

    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=len(bodies))
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        encoded = [None if body is None else urlencode([tuple(pair) for pair in body]) for body in bodies]
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        await asyncio.gather(*(http.get(f"{url}/healthz") for _ in range(min(len(bodies), 50))))  # open connections
        start = asyncio.Event()

        async def one(body):
            await start.wait()
            began = time.perf_counter()
            if body is None:
                response = await http.get(f"{url}{path}")
            else:
                response = await http.post(f"{url}{path}", content=body, headers=headers)
            return time.perf_counter() - began, response.status_code

        tasks = [asyncio.create_task(one(body)) for body in encoded]
        await asyncio.sleep(0.2)
        start.set()
        results = await asyncio.gather(*tasks)
    return [seconds for seconds, _ in results], [code for _, code in results]


def applied(dsn: str) -> dict:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM billing_invoices WHERE status = 'PAID'),"
            " (SELECT count(*) FROM billing_payments WHERE status = 'PAID'),"
            " (SELECT count(*) FROM audit_entries WHERE action = 'payment.received'),"
            " (SELECT count(*) FROM billing_provider_events),"
            " (SELECT count(*) FROM billing_provider_events WHERE status = 'PROCESSED'),"
            " (SELECT coalesce(max(amount_paid), 0) FROM billing_invoices)"
        ).fetchone()
    return dict(
        zip(("invoices_paid", "payments_paid", "received", "events", "processed", "max_paid"), row, strict=True)
    )


def one_at_a_time(url: str, body: list, count: int = 30) -> None:
    """The cost of one callback with nothing else in flight (a repeat: one INSERT that conflicts)."""
    from urllib.parse import urlencode

    encoded = urlencode([tuple(pair) for pair in body])
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    ms = []
    with httpx.Client(timeout=30) as http:
        for _ in range(count):
            began = time.perf_counter()
            http.post(f"{url}/webhooks/paynow", content=encoded, headers=headers).raise_for_status()
            ms.append((time.perf_counter() - began) * 1000)
    print(f"sequential {count} repeated callbacks: p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms")


def with_ab(url: str, body: list, count: int) -> None:
    """The same bursts from ApacheBench (``ab``, C, Debian's apache2-utils) when it is installed: the
    Python client above spends about as much CPU per request as the server, on the same two cores,
    so ab shows what the server itself answers. Identical callbacks only (ab sends one body)."""
    import re
    import shutil
    from urllib.parse import urlencode

    if shutil.which("ab") is None:
        print("ab: not installed (apt-get install apache2-utils) - skipped")
        return
    with tempfile.NamedTemporaryFile("w", suffix=".form", delete=False) as file:
        file.write(urlencode([tuple(pair) for pair in body]))
    form = ["-p", file.name, "-T", "application/x-www-form-urlencoded"]
    for name, path, extra in (("GET /healthz", "/healthz", []), ("POST /webhooks/paynow", "/webhooks/paynow", form)):
        argv = ["ab", "-q", "-n", str(count), "-c", str(count), "-s", "60", *extra, f"{url}{path}"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=120).stdout
        cut = dict(re.findall(r"^\s+(\d+)%\s+(\d+)", out, re.M))
        failed = re.search(r"Failed requests:\s+(\d+)", out)
        non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
        print(
            f"ab {count} x {name} at once: p50 {cut.get('50', '?')} ms, p95 {cut.get('95', '?')} ms, "
            f"max {cut.get('100', '?')} ms, failed {failed.group(1) if failed else '?'}, "
            f"non-2xx {non2xx.group(1) if non2xx else 0}"
        )
    os.unlink(file.name)


def reference(url: str, count: int) -> float:
    """The machine's own figure for this burst: the same number of GET /healthz at once (a Flask
    request on the page threads that touches nothing), from the same client. Returns its p95."""
    latencies, codes = asyncio.run(fire(url, [None] * count, path="/healthz"))
    ms = [value * 1000 for value in latencies]
    print(
        f"reference {count} GET /healthz at once: 200s {codes.count(200)}/{count}, "
        f"p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms"
    )
    return percentile(ms, 95)


def scenario(
    name: str, url: str, dsn: str, bodies: list[list], payments: int, wait: float = 60, floor: float | None = None
) -> bool:
    latencies, codes = asyncio.run(fire(url, bodies))
    began = time.perf_counter()
    state = applied(dsn)
    while state["invoices_paid"] < payments and time.perf_counter() - began < wait:
        time.sleep(0.2)
        state = applied(dsn)
    settle = time.perf_counter() - began
    ms = [value * 1000 for value in latencies]
    p95 = percentile(ms, 95)
    once = state["invoices_paid"] == payments == state["payments_paid"] == state["received"]
    ratio = f"; {p95 / floor:.2f} x the /healthz burst's p95" if floor else ""
    print(
        f"{name:9s} {len(bodies)} callbacks: 200s {codes.count(200)}/{len(codes)}, "
        f"p50 {percentile(ms, 50):.0f} ms, p95 {p95:.0f} ms, p99 {percentile(ms, 99):.0f} ms, max {max(ms):.0f} ms "
        f"(goal p95 < {GOAL_MS} ms{ratio}) | applied: {state['invoices_paid']}/{payments} invoices paid, "
        f"{state['received']} payment.received, {state['events']} events recorded, "
        f"largest amount paid {state['max_paid'] / 100:.2f} (each invoice 115.00), workers done {settle:.1f} s after"
        f" | {'exactly once' if once and state['max_paid'] == 11_500 else 'NOT exactly once'}"
    )
    return p95 < GOAL_MS and once and codes.count(200) == len(codes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/3"))
    parser.add_argument("--callbacks", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="RQ workers on the billing queue")
    options = parser.parse_args()

    database = f"payments_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{options.pg}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"{options.pg.replace('postgresql://', 'postgresql+psycopg://')}/{database}",
        "REDIS_URL": options.redis,
        "RATELIMIT_STORAGE_URI": options.redis,
        "INSTANCE_PATH": tempfile.mkdtemp(prefix="tessera-bench-"),
        "BASE_URL": url,
        "JOBS_BACKEND": "rq",
        "PYTHONPATH": str(ROOT),
        "FLASK_APP": "wsgi.py",
    }
    processes: list[subprocess.Popen] = []
    stoppers: list = []
    ok = False
    try:
        subprocess.run([PYTHON, "-m", "flask", "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        sandbox_db = f"sqlite:///{Path(env['INSTANCE_PATH']) / 'sandboxes.sqlite3'}"
        sandboxes, sandbox_url = start_sandboxes(
            Path(env["INSTANCE_PATH"]), database_url=sandbox_db, instance_path=Path(env["INSTANCE_PATH"]) / "sandbox"
        )
        env["SANDBOX_URL"] = sandbox_url
        web, started = start_web(Path(env["INSTANCE_PATH"]), port=port, **{k: env[k] for k in WEB_ENV})
        stoppers += [web.stop, sandboxes.stop]
        assert started == url
        made = subprocess.run(
            [PYTHON, "-c", SETUP, str(options.callbacks + 1), sandbox_db],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
        bodies = json.loads(made.stdout.strip().splitlines()[-1])
        for _ in range(options.workers):
            worker = [PYTHON, "-m", "flask", "worker", "--queues", "billing"]
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            processes.append(subprocess.Popen(worker, env=env, cwd=ROOT, **quiet))
        load = os.getloadavg()[0]
        shape = f"web 2 workers x 4 threads, sandbox process, {options.workers} RQ workers, {os.cpu_count()} cores"
        print(f"{shape}, load {load:.1f}")
        dsn = f"{options.pg}/{database}"
        floor = reference(url, options.callbacks)
        same = scenario("same", url, dsn, [bodies[0]] * options.callbacks, 1, floor=floor)
        one_at_a_time(url, bodies[0])
        with_ab(url, bodies[0], options.callbacks)
        # counts include (a)
        distinct = scenario("distinct", url, dsn, bodies[1:], options.callbacks + 1, wait=300, floor=floor)
        ok = same and distinct
    finally:
        for stop in stoppers:
            stop()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        with psycopg.connect(f"{options.pg}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
