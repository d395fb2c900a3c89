"""Usage-event ingestion benchmark (not a timed test).

Starts gunicorn (2 workers with threads) on PostgreSQL + Redis against a fresh database on a free
port, creates an organization and an API key, then measures:
  (a) batches of 1,000 events  → events stored per second
  (b) single-event requests    → requests per second and p95 latency
  (c) bare /healthz            → requests per second, for the ratio with (b)
The load generator is several processes, each with its own keep-alive HTTP connection pool.

    .venv/bin/python bench/ingest.py [--pg postgresql://postgres@127.0.0.1:5432] [--redis redis://127.0.0.1:6379/4]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
from _shared import free_port  # noqa: E402 (bench/ is the script's folder)

VENV_BIN = ROOT / ".venv" / "bin"


def psql(base: str, sql: str) -> None:
    subprocess.run(
        [
            str(VENV_BIN / "python"),
            "-c",
            (f"import psycopg,sys\nc=psycopg.connect({base + '/postgres'!r}, autocommit=True)\nc.execute({sql!r})\n"),
        ],
        check=True,
    )


def setup(env: dict) -> str:
    """Migrate the fresh database, make an org on ENTERPRISE (unlimited API calls) and a key; return the key."""
    subprocess.run(
        [str(VENV_BIN / "flask"), "db", "upgrade", "heads"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    code = """
from webapp import create_app
from webapp.extensions import db
app = create_app()
with app.app_context():
    from webapp.auth import services as accounts
    from webapp.orgs import services as orgs
    from webapp.api import services as keys
    from webapp.subscriptions.services import set_enterprise_terms
    user = accounts.sign_up("bench@example.com", "bench password 123", "Bench")
    org = orgs.create_organization(user, "Bench", "bench-org", "bench@example.com")
    set_enterprise_terms(org, user, 0, 0, "MONTHLY", {})
    key, plain = keys.create_key(org, user, "bench", ["usage:write", "usage:read"], 1_000_000_000 // 1000, None)
    db.session.commit()
    print(plain)
"""
    out = subprocess.run(
        [str(VENV_BIN / "python"), "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def batch_worker(args):
    url, key, batches, tag = args
    headers = {"Authorization": f"Bearer {key}"}
    stored = 0
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        for b in range(batches):
            events = [
                {
                    "event_id": f"{tag}-{b}-{i}",
                    "event_type": "pos.transaction",
                    "quantity": 1 + i % 7,
                    "timestamp": _now(),
                    "data": {"terminal_id": f"T{i % 40}"},
                }
                for i in range(1000)
            ]
            response = http.post("/api/v1/usage-events", json={"events": events})
            response.raise_for_status()
            stored += response.json()["counts"]["accepted"]
    return stored


def single_worker(args):
    url, key, requests, tag, path = args
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    latencies = []
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        for i in range(requests):
            started = time.perf_counter()
            if path == "/healthz":
                response = http.get(path)
            else:
                response = http.post(
                    path, json={"event_id": f"{tag}-{i}", "event_type": "api.request", "timestamp": _now()}
                )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:200]}")
    return latencies


def run_pool(func, jobs):
    with mp.get_context("fork").Pool(len(jobs)) as pool:
        started = time.perf_counter()
        results = pool.map(func, jobs)
        return results, time.perf_counter() - started


def p95(values):
    values = sorted(values)
    return values[int(len(values) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/4"))
    parser.add_argument("--clients", type=int, default=4, help="load-generator processes")
    parser.add_argument("--batches", type=int, default=15, help="batches of 1,000 per client")
    parser.add_argument("--requests", type=int, default=1500, help="single requests per client")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    options = parser.parse_args()

    database = f"tessera_bench_{uuid.uuid4().hex[:8]}"
    psql(options.pg, f'CREATE DATABASE "{database}"')
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    instance = tempfile.mkdtemp(prefix="tessera-bench-")
    env = {
        **os.environ,
        "DATABASE_URL": f"{options.pg}/{database}",
        "REDIS_URL": options.redis,
        "INSTANCE_PATH": instance,
        "FLASK_APP": "wsgi.py",
        "BASE_URL": url,
        "JOBS_BACKEND": "rq",
    }
    server = None
    try:
        key = setup(env)
        server = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "-w",
                "2",
                "--threads",
                str(options.threads),
                "-k",
                "gthread",
                "--keep-alive",
                "30",
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            env=env,
            cwd=ROOT,
        )
        for _ in range(100):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            sys.exit("gunicorn did not start")
        # Warm up both workers (auth cache, connection pools).
        single_worker((url, key, 50, "warm", "/api/v1/usage-events"))
        single_worker((url, None, 50, "warm", "/healthz"))

        c = options.clients
        stored, seconds = run_pool(batch_worker, [(url, key, options.batches, f"b{n}") for n in range(c)])
        events = sum(stored)
        print(f"(a) batches of 1,000: {events:,} events stored in {seconds:.2f} s = {events / seconds:,.0f} events/s")

        lat, seconds = run_pool(
            single_worker, [(url, key, options.requests, f"s{n}", "/api/v1/usage-events") for n in range(c)]
        )
        flat = [x for part in lat for x in part]
        single_rps = len(flat) / seconds
        print(
            f"(b) single events: {len(flat):,} requests in {seconds:.2f} s = {single_rps:,.0f} req/s, "
            f"p95 {p95(flat) * 1000:.1f} ms"
        )

        lat, seconds = run_pool(single_worker, [(url, None, options.requests, f"h{n}", "/healthz") for n in range(c)])
        flat = [x for part in lat for x in part]
        health_rps = len(flat) / seconds
        print(
            f"(c) /healthz: {len(flat):,} requests in {seconds:.2f} s = {health_rps:,.0f} req/s, "
            f"p95 {p95(flat) * 1000:.1f} ms"
        )
        print(f"single-event / healthz = {single_rps / health_rps:.2f} (goal ≥ 0.33); batched goal ≥ 20,000 events/s")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        psql(options.pg, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
