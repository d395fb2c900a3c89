"""Open live streams against the README's run shape (not a timed test).

Starts the web process (gunicorn, 2 uvicorn workers x 4 page threads; streams on the event loops) on
PostgreSQL + Redis against a fresh database, signs in USERS accounts over HTTP, then:
  (a) /healthz and a signed-in page (the notifications list), with no stream open: the reference
  (b) opens STREAMS notification streams (USERS x STREAMS/USERS, within the per-account cap) from a
      separate process and checks every one received its first count
  (c) the same latency measurement while they stay open, and the delivery time of notifications
      created meanwhile (commit → the event arrives on every stream of that user)
Goal: 1,000 open streams with /healthz p95 < 50 ms and pages p95 < 150 ms.

    .venv/bin/python bench/streams.py [--streams 1000] [--users 200] [--pg postgresql://postgres@127.0.0.1:5432]
        [--database tessera_bench_streams] [--redis redis://127.0.0.1:6379/4]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, login, start_web  # noqa: E402

PASSWORD = "bench password 123"


def recreate_database(pg: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{pg}/{name}"


def setup(env: dict, users: int) -> list[str]:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi.py", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    code = f"""
from webapp import create_app
from webapp.extensions import db
app = create_app()
with app.app_context():
    from webapp.auth import services as accounts
    for i in range({users}):
        accounts.sign_up(f"viewer{{i}}@bench.example", {PASSWORD!r}, f"Viewer {{i}}")
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True)
    return [f"viewer{i}@bench.example" for i in range(users)]


def sign_in(url: str, emails: list[str]) -> list[dict]:
    """Cookies of each account, signed in through the login form (several at a time)."""
    jars: list[dict] = [{}] * len(emails)

    def one(i: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            login(client, emails[i], PASSWORD)
            jars[i] = dict(client.cookies)

    threads = [threading.Thread(target=lambda i=i: one(i)) for i in range(len(emails))]
    for chunk in range(0, len(threads), 8):
        batch = threads[chunk : chunk + 8]
        for t in batch:
            t.start()
        for t in batch:
            t.join()
    return jars


def hold_streams(url: str, jars: list[dict], per_user: int, ready, stop, report) -> None:
    """In its own process: open len(jars) x per_user streams, count events, report when told to stop."""

    async def main() -> None:
        clients = [
            httpx.AsyncClient(base_url=url, cookies=jar, timeout=httpx.Timeout(10, read=None), limits=httpx.Limits())
            for jar in jars
        ]
        first = {"count": 0, "events": 0, "notifications": 0, "closed": 0, "errors": 0}
        arrivals: list[float] = []

        async def stream(client) -> None:
            try:
                async with client.stream("GET", "/notifications/stream") as response:
                    if response.status_code != 200:
                        first["errors"] += 1
                        return
                    seen_count = False
                    async for line in response.aiter_lines():
                        if line.startswith("event: "):
                            first["events"] += 1
                            if line == "event: count" and not seen_count:
                                seen_count = True
                                first["count"] += 1
                            elif line == "event: notification":
                                first["notifications"] += 1
                                arrivals.append(time.time())
                            elif line == "event: closed":
                                first["closed"] += 1
            except (httpx.HTTPError, asyncio.CancelledError):
                pass

        tasks = []
        for client in clients:
            for _ in range(per_user):
                tasks.append(asyncio.create_task(stream(client)))
                await asyncio.sleep(0.002)  # a steady ramp, as tabs open
        while first["count"] + first["errors"] < len(tasks):
            await asyncio.sleep(0.2)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)
        report.put({**first, "arrivals": arrivals})
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for client in clients:
            await client.aclose()

    asyncio.run(main())


def latencies(url: str, path: str, cookies: dict | None, requests: int, concurrency: int = 4) -> list[float]:
    times: list[float] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        with httpx.Client(base_url=url, cookies=cookies or {}, timeout=30) as client:
            for _ in range(n):
                start = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - start) * 1000
                assert response.status_code == 200, (path, response.status_code)
                with lock:
                    times.append(elapsed)

    threads = [threading.Thread(target=worker, args=(requests // concurrency,)) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def line(label: str, values: list[float]) -> str:
    return f"{label:<28} p50 {statistics.median(values):6.1f} ms   p95 {pct(values, 0.95):6.1f} ms   n={len(values)}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="tessera_bench_streams")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/4"))
    args = parser.parse_args()
    per_user = -(-args.streams // args.users)

    tmp = Path(tempfile.mkdtemp(prefix="tessera-bench-streams-"))
    database_url = recreate_database(args.pg, args.database)
    import redis

    redis.Redis.from_url(args.redis).flushdb()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis,
        "INSTANCE_PATH": str(tmp / "instance"),
        "SANDBOX_URL": f"http://127.0.0.1:{free_port()}",
        "LOGIN_LIMIT_PER_IP": "100000/minute",
        "LOGIN_LIMIT_PER_ACCOUNT": "1000/minute",
    }
    print(f"setting up {args.users} accounts …", flush=True)
    emails = setup(env, args.users)
    passed = (
        "DATABASE_URL",
        "REDIS_URL",
        "INSTANCE_PATH",
        "SANDBOX_URL",
        "LOGIN_LIMIT_PER_IP",
        "LOGIN_LIMIT_PER_ACCOUNT",
    )
    web, url = start_web(tmp, **{k: env[k] for k in passed})
    try:
        jars = sign_in(url, emails)
        page_cookies = jars[0]
        base_health = latencies(url, "/healthz", None, args.requests)
        base_page = latencies(url, "/notifications/", page_cookies, args.requests)

        ready, stop, report = mp.Event(), mp.Event(), mp.Queue()
        holder = mp.Process(target=hold_streams, args=(url, jars, per_user, ready, stop, report))
        opened_at = time.time()
        holder.start()
        if not ready.wait(600):
            raise SystemExit("the streams did not all open within 10 minutes")
        open_seconds = time.time() - opened_at
        time.sleep(2)
        open_rows = _open_rows(env)
        loaded_health = latencies(url, "/healthz", None, args.requests)
        loaded_page = latencies(url, "/notifications/", page_cookies, args.requests)
        sent = _notify_some(env, emails[:20])
        time.sleep(3)
        stop.set()
        result = report.get(timeout=60)
        holder.join(60)
    finally:
        web.stop()

    delivery = [max(0.0, (arrival - sent) * 1000) for arrival in result["arrivals"]]
    print()
    wanted = args.users * per_user
    print(f"streams opened: {result['count']} of {wanted} ({result['errors']} refused) in {open_seconds:.1f} s")
    print(f"live-session rows OPEN while held: {open_rows}; closed by the cap: {result['closed']}")
    print(line("/healthz, no streams", base_health))
    print(line("page, no streams", base_page))
    print(line(f"/healthz, {result['count']} streams", loaded_health) + "   (goal p95 < 50 ms)")
    print(line(f"page, {result['count']} streams", loaded_page) + "   (goal p95 < 150 ms)")
    if delivery:
        print(line("notification delivery", delivery) + f"   ({len(delivery)} events on the streams of 20 users)")


def _open_rows(env: dict) -> int:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as conn:
        return conn.execute("SELECT count(*) FROM live_sessions WHERE status = 'OPEN'").fetchone()[0]


def _notify_some(env: dict, emails: list[str]) -> float:
    """One notification to each of these accounts, committed together; returns the commit time."""
    code = f"""
import time
from sqlalchemy import select
from webapp import create_app
from webapp.extensions import db
app = create_app()
with app.app_context():
    from webapp.auth.models import User
    from webapp.notifications.services import notify
    for user in db.session.scalars(select(User).where(User.email.in_({emails!r}))):
        notify(user, "general", "Bench notice")
    sent = time.time()
    db.session.commit()
    print(sent)
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
