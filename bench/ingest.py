"""Usage-event ingestion benchmark (not a timed test).

Starts gunicorn (2 workers with threads) on PostgreSQL + Redis against a fresh database on a free
port, creates an organization and an API key, then measures, in one run under the same load:
  (r) the reference: raw PostgreSQL (psycopg, COPY of 1,000 rows into a staging table, then
      INSERT … ON CONFLICT DO NOTHING … RETURNING into a copy of the key table and INSERT of the new
      rows into a copy of the partitioned events table: the same partitions, indexes and foreign
      keys), as many client processes as (a) → rows stored per second
  (a) batches of 1,000 events  → events stored per second, and the ratio to (r) (goal ≥ 0.8)
  (b) single-event requests    → requests per second and p95 latency
  (c) bare /healthz            → requests per second, for the ratio with (b) (goal ≥ 0.5)
Some batches and single events are sent twice on purpose; at the end the events table is counted:
every event sent is stored exactly once (nothing lost, nothing double-counted) and the API answered
"duplicate" for each repeat. The load average is printed beside the figures (the machine is shared;
the ratios are what count).
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

VENV_BIN = Path(sys.executable).parent  # the interpreter running this script (its venv)


def psql(base: str, sql: str) -> None:
    subprocess.run(
        [
            str(VENV_BIN / "python"),
            "-c",
            (f"import psycopg,sys\nc=psycopg.connect({base + '/postgres'!r}, autocommit=True)\nc.execute({sql!r})\n"),
        ],
        check=True,
    )


def psql_db(dsn: str, sql: str, params=None) -> list:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


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
    print(org.id, key.id, plain)
"""
    out = subprocess.run(
        [str(VENV_BIN / "python"), "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    org_id, key_id, plain = out.stdout.strip().splitlines()[-1].split()
    return int(org_id), int(key_id), plain


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _batch(tag: str, b: int) -> list[dict]:
    now = _now()
    return [
        {
            "event_id": f"{tag}-{b}-{i}",
            "event_type": "pos.transaction",
            "quantity": 1 + i % 7,
            "timestamp": now,
            "data": {"terminal_id": f"T{i % 40}"},
        }
        for i in range(1000)
    ]


def batch_worker(args):
    """Send batches ``first`` … ``last`` - 1 of client ``tag``; returns (accepted, duplicate)."""
    url, key, first, last, tag = args
    headers = {"Authorization": f"Bearer {key}"}
    accepted = duplicate = 0
    with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        for b in range(first, last):
            body = {"events": _batch(tag, b)}
            response = http.post("/api/v1/usage-events", json=body)
            response.raise_for_status()
            counts = response.json()["counts"]
            accepted += counts["accepted"]
            duplicate += counts["duplicate"]
    return accepted, duplicate


def reference_worker(args):
    """The database's own limit for the same storage: COPY 1,000 rows into a staging table, claim the new
    ids in the key table (``INSERT … ON CONFLICT DO NOTHING RETURNING``) and store those events in the
    partitioned events table, in one transaction per batch."""
    import psycopg

    dsn, org_id, key_id, batches, tag = args
    stored = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TEMP TABLE staging (event_id varchar(128), event_type varchar(64), quantity bigint,"
            ' "timestamp" timestamptz, data json) ON COMMIT DELETE ROWS'
        )
        for b in range(batches):
            now = datetime.now(UTC)
            with conn.transaction(), conn.cursor() as cur:
                with cur.copy('COPY staging (event_id, event_type, quantity, "timestamp", data) FROM STDIN') as copy:
                    for i in range(1000):
                        copy.write_row(
                            (f"{tag}-{b}-{i}", "pos.transaction", 1 + i % 7, now, f'{{"terminal_id":"T{i % 40}"}}')
                        )
                cur.execute(
                    "WITH fresh AS (INSERT INTO reference_event_keys (organization_id, event_id)"
                    " SELECT %(org)s, event_id FROM staging"
                    " ON CONFLICT (organization_id, event_id) DO NOTHING RETURNING event_id)"
                    " INSERT INTO reference_events (organization_id, api_key_id, event_id, event_type, quantity,"
                    ' "timestamp", data, received_at)'
                    ' SELECT %(org)s, %(key)s, s.event_id, s.event_type, s.quantity, s."timestamp", s.data, now()'
                    " FROM staging s JOIN fresh f ON f.event_id = s.event_id",
                    {"org": org_id, "key": key_id},
                )
                stored += cur.rowcount
    return stored


def reference_tables(dsn: str) -> None:
    """The reference's tables: copies of ``usage_events`` (partitioned by month, the same partitions,
    indexes and foreign keys) and of ``usage_event_keys`` (its primary key and foreign key), so the
    database does the same work for a reference row as for an event (the rollup trigger aside)."""
    psql_db(
        dsn,
        "CREATE TABLE reference_events (LIKE usage_events INCLUDING DEFAULTS INCLUDING INDEXES)"
        ' PARTITION BY RANGE ("timestamp")',
    )
    for name, bound in psql_db(
        dsn,
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'usage_events'::regclass",
    ):
        psql_db(dsn, f'CREATE TABLE "reference_{name}" PARTITION OF reference_events {bound}')
    psql_db(dsn, "CREATE TABLE reference_event_keys (LIKE usage_event_keys INCLUDING ALL)")
    for table, reference in (("usage_events", "reference_events"), ("usage_event_keys", "reference_event_keys")):
        for (definition,) in psql_db(
            dsn,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            (table,),
        ):
            psql_db(dsn, f"ALTER TABLE {reference} ADD {definition}")


REPEAT_EVERY = 10  # every tenth single event repeats the one sent just before (on purpose)


def single_worker(args):
    """Returns (latencies, distinct events sent, duplicates the API reported)."""
    url, key, requests, tag, path = args
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    latencies = []
    distinct = duplicate = 0
    event_id = None
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        for i in range(requests):
            started = time.perf_counter()
            if path == "/healthz":
                response = http.get(path)
            else:
                if event_id is None or i % REPEAT_EVERY != REPEAT_EVERY - 1:
                    event_id = f"{tag}-{i}"
                    distinct += 1
                response = http.post(
                    path, json={"event_id": event_id, "event_type": "api.request", "timestamp": _now()}
                )
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:200]}")
            if path != "/healthz":
                duplicate += response.json()["counts"]["duplicate"]
    return latencies, distinct, duplicate


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
    parser.add_argument("--db-prefix", default="tessera_bench", help="the throwaway database's name prefix")
    options = parser.parse_args()

    database = f"{options.db_prefix}_{uuid.uuid4().hex[:8]}"
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
        org_id, key_id, key = setup(env)
        dsn = f"{options.pg}/{database}"
        reference_tables(dsn)
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
        _, warm, _ = single_worker((url, key, 50, "warm", "/api/v1/usage-events"))
        single_worker((url, None, 50, "warm", "/healthz"))
        print(f"load average before: {load()}")

        c = options.clients
        stored, ref_seconds = run_pool(
            reference_worker, [(dsn, org_id, key_id, options.batches, f"r{n}") for n in range(c)]
        )
        ref_rows = sum(stored)
        ref_rate = ref_rows / ref_seconds
        print(
            f"(r) reference, raw PostgreSQL COPY + INSERT … ON CONFLICT (key table, partitioned events), "
            f"batches of 1,000: {ref_rows:,} rows "
            f"in {ref_seconds:.2f} s = {ref_rate:,.0f} rows/s"
        )

        results, seconds = run_pool(batch_worker, [(url, key, 0, options.batches, f"b{n}") for n in range(c)])
        accepted = sum(r[0] for r in results)
        rate = accepted / seconds
        print(f"(a) batches of 1,000: {accepted:,} events stored in {seconds:.2f} s = {rate:,.0f} events/s")
        # On purpose, untimed: each client sends its first two batches again; all must come back duplicate.
        results, _ = run_pool(batch_worker, [(url, key, 0, 2, f"b{n}") for n in range(c)])
        accepted += sum(r[0] for r in results)
        batch_duplicates = sum(r[1] for r in results)

        results, seconds = run_pool(
            single_worker, [(url, key, options.requests, f"s{n}", "/api/v1/usage-events") for n in range(c)]
        )
        flat = [x for r in results for x in r[0]]
        single_distinct = sum(r[1] for r in results)
        single_duplicates = sum(r[2] for r in results)
        single_rps = len(flat) / seconds
        print(
            f"(b) single events: {len(flat):,} requests ({single_duplicates:,} repeats) in {seconds:.2f} s "
            f"= {single_rps:,.0f} req/s, p95 {p95(flat) * 1000:.1f} ms"
        )

        results, seconds = run_pool(
            single_worker, [(url, None, options.requests, f"h{n}", "/healthz") for n in range(c)]
        )
        flat = [x for r in results for x in r[0]]
        health_rps = len(flat) / seconds
        print(
            f"(c) /healthz: {len(flat):,} requests in {seconds:.2f} s = {health_rps:,.0f} req/s, "
            f"p95 {p95(flat) * 1000:.1f} ms"
        )
        print(f"load average after: {load()}")
        batch_ratio, single_ratio = rate / ref_rate, single_rps / health_rps
        print(
            f"batched / reference = {batch_ratio:.2f} (goal ≥ 0.80) {'ok' if batch_ratio >= 0.8 else 'MISSED'}; "
            f"single-event / healthz = {single_ratio:.2f} (goal ≥ 0.50) {'ok' if single_ratio >= 0.5 else 'MISSED'}"
        )

        # Nothing lost, nothing double-counted: the table holds each distinct event exactly once.
        expected_batch, expected_single = options.batches * 1000 * c, single_distinct
        rows = dict(
            psql_db(
                dsn,
                "SELECT event_type, count(*) FROM usage_events WHERE organization_id = %s GROUP BY event_type",
                (org_id,),
            )
        )
        stored_batch, stored_single = rows.get("pos.transaction", 0), rows.get("api.request", 0) - warm
        checks = [
            ("batch events stored", stored_batch, expected_batch),
            ("batch events answered accepted", accepted, expected_batch),
            ("batch repeats answered duplicate", batch_duplicates, 2000 * c),
            ("single events stored", stored_single, expected_single),
            ("single repeats answered duplicate", single_duplicates, len(flat) - expected_single),
        ]
        failed = [(name, got, want) for name, got, want in checks if got != want]
        for name, got, want in checks:
            print(f"  {name}: {got:,} (expected {want:,})")
        if failed:
            sys.exit(f"COUNTS WRONG: {failed}")
        print("counts: no event lost, none double-counted")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        psql(options.pg, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
