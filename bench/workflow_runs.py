"""Workflow runs and AI credit reservations: ``python bench/workflow_runs.py [RUNS] [RESERVATIONS]``.

(1) RUNS executions of a 3-step workflow (condition, invoice line, condition) by BENCH_WORKERS (2)
real RQ workers (``flask worker --queues default``, ``--no-fork`` unless BENCH_FORK=1): the runs are
started in transactions of 50 the way triggers start them (``start_run``: a row and a job through the
outbox) once every worker listens, and the clock stops when the last run has SUCCEEDED. Reports runs
per second, the start → end latency of a run (median, p95) and the commits per run (PostgreSQL's own
count for the database, so the outbox relay and the lease heartbeats are in it). ``--inline`` runs
them one after another in this process instead (to profile the executor alone).
(2) RESERVATIONS credit reservations + settlements from 20 threads against one balance (the
conditional UPDATE).

Environment: BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/tessera_bench_workflows,
its schema emptied), BENCH_REDIS_URL (default redis://127.0.0.1:6379/5, flushed).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _shared import free_port, fresh_database, percentile  # noqa: E402 (bench/ is the script's folder)

STEPS = (
    ("condition", {"expression": "trigger.n >= 0"}),
    ("invoice_line", {"description": "Item {{ trigger.n }}", "amount": "1.00", "currency": "USD"}),
    ("condition", {"expression": "step2.status == 'PENDING'"}),
)


def _commits(db, name: str) -> int:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return conn.execute(text("SELECT xact_commit FROM pg_stat_database WHERE datname = :n"), {"n": name}).scalar()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a worker process so far, with its finished work horses' (``BENCH_FORK=1``:
    RQ waits for each, so theirs is counted in the parent's children time) (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / os.sysconf("SC_CLK_TCK")


def _start_workers(instance: str, count: int) -> list[subprocess.Popen]:
    fork = os.environ.get("BENCH_FORK") == "1"
    argv = [sys.executable, "-m", "flask", "--app", "wsgi.py", "worker", "--queues", "default"]
    procs, logs = [], [Path(instance) / f"worker{i}.log" for i in range(count)]
    for log in logs:
        procs.append(
            subprocess.Popen(
                argv + ([] if fork else ["--no-fork"]),
                cwd=ROOT,
                env=dict(os.environ),
                stdout=subprocess.DEVNULL,
                stderr=log.open("w"),
            )
        )
    until = time.monotonic() + 300  # starting a worker takes a while on a loaded machine
    while time.monotonic() < until and not all("Listening on" in log.read_text() for log in logs):
        time.sleep(0.5)
    return procs


def main(runs: int, reservations: int, inline: bool) -> None:
    database = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/tessera_bench_workflows")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    instance = tempfile.mkdtemp(prefix="tessera-bench-")
    os.environ.update(
        DATABASE_URL=database,
        REDIS_URL=redis_url,
        BASE_URL=f"http://127.0.0.1:{free_port()}",
        JOBS_BACKEND="inline" if inline else "rq",
        INSTANCE_PATH=instance,
        STORAGE_PATH=str(Path(instance) / "storage"),
        RATELIMIT_STORAGE_URI="memory://",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(free_port()),
    )
    fresh_database(database)
    import logging

    from flask_migrate import upgrade
    from redis import Redis
    from sqlalchemy import func, select

    from webapp import create_app
    from webapp.extensions import db

    Redis.from_url(redis_url).flushdb()
    app = create_app({"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 25}})
    logging.getLogger().setLevel(logging.WARNING)
    procs: list[subprocess.Popen] = []
    idle = 0.0
    try:
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"), revision="heads")
            from webapp.ai import credits
            from webapp.auth.services import sign_up
            from webapp.orgs.services import create_organization
            from webapp.workflows import execution, services
            from webapp.workflows.models import WorkflowRun

            owner = sign_up("bench@example.com", "correct horse battery", "Bench")
            org = create_organization(owner, "Bench", "bench-org", "bench@example.com", "ZW", "Africa/Harare")
            workflow = services.create_workflow(org, owner, "Bench flow")
            workflow.max_concurrency = 10  # more than the workers: a slot is never what a run waits for
            for type_, config in STEPS:
                services.add_step(workflow, owner, type_).config = config
            db.session.commit()
            name = database.rsplit("/", 1)[1]
            if inline:
                ids = []
                for n in range(runs):
                    run = WorkflowRun(
                        organization_id=org.id, workflow_id=workflow.id, trigger_type="manual", trigger_payload={"n": n}
                    )
                    db.session.add(run)
                    db.session.flush()
                    ids.append(run.id)
                db.session.commit()
                before = _commits(db, name)
                started = time.perf_counter()
                for run_id in ids:
                    assert execution.execute(run_id) == "SUCCEEDED"
                elapsed = time.perf_counter() - started
                mode = "in this process, one after another"
            else:
                procs = _start_workers(instance, workers)
                idle = sum(_cpu_seconds(proc.pid) for proc in procs)  # start-up, not runs
                load_before = os.getloadavg()[0]
                before = _commits(db, name)
                started = time.perf_counter()
                for first in range(0, runs, 50):  # triggers start runs in transactions of their own
                    for n in range(first, min(runs, first + 50)):
                        execution.start_run(workflow, "manual", {"n": n})
                    db.session.commit()
                starting = time.perf_counter() - started
                deadline = time.monotonic() + 600
                done = 0
                while done < runs and time.monotonic() < deadline:
                    time.sleep(0.1)
                    done = db.session.scalar(select(func.count()).where(WorkflowRun.status.in_(WorkflowRun.FINISHED)))
                    db.session.rollback()
                elapsed = time.perf_counter() - started
                forked = os.environ.get("BENCH_FORK") == "1"
                mode = f"{workers} RQ workers ({'fork per job' if forked else '--no-fork'})"
            commits = _commits(db, name) - before
            cpu = sum(_cpu_seconds(proc.pid) for proc in procs) - idle if procs else 0.0
            finished = db.session.execute(
                select(WorkflowRun.status, WorkflowRun.queued_at, WorkflowRun.completed_at)
            ).all()
            succeeded = sum(1 for s, *_ in finished if s == "SUCCEEDED")
            from webapp.workflows.models import PendingInvoiceLine

            lines = db.session.scalar(select(func.count()).select_from(PendingInvoiceLine))
            latency = [(c - q).total_seconds() for s, q, c in finished if c is not None]
            print(
                f"runs: {succeeded} of {runs} SUCCEEDED x 3 steps, {mode}, in {elapsed:.2f} s = "
                f"{runs / elapsed:.1f} runs/s (goal >= 50)"
            )
            if latency and not inline:
                print(
                    f"run latency start -> SUCCEEDED: median {statistics.median(latency):.2f} s, "
                    f"p95 {percentile(latency, 95):.2f} s"
                )
            print(f"invoice lines proposed: {lines} for {runs} runs (each run's step took effect once)")
            print(f"commits in the database while they ran: {commits} = {commits / runs:.1f} per run")
            if procs:
                print(f"starting them (this process, transactions of 50, outbox + relay): {starting:.2f} s")
                print(
                    f"worker CPU: {cpu:.1f} s = {cpu / runs * 1000:.1f} ms per run = "
                    f"{runs / cpu:.0f} runs per worker-CPU-second (PostgreSQL's and Redis's CPU not included)"
                )
                print(f"machine load (1 min) as the runs started: {load_before:.1f} on {os.cpu_count()} cores")

            balance = credits.balance_of(org)
            db.session.commit()
            credits.adjust(org, owner, reservations * 2 - balance.balance, "ADMIN_ADJUSTMENT", "bench")
            db.session.commit()
            org_id = org.id
            done_pairs = []

            def reserve(count):
                with app.app_context():
                    for _ in range(count):
                        txn = credits.reserve(org_id, 3, user_id=None, service="CHAT_ASSISTANT", operation="bench")
                        if txn is not None:
                            credits.settle(org_id, txn, 3, 2, "bench", {})
                            done_pairs.append(1)

            threads = [threading.Thread(target=reserve, args=(reservations // 20,)) for _ in range(20)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - started
            db.session.expire_all()
            final = credits.balance_of(org).balance
            print(
                f"credits: {len(done_pairs)} reserve+settle pairs from 20 threads in {elapsed:.2f} s = "
                f"{len(done_pairs) / elapsed:.0f}/s; balance {reservations * 2} -> {final} (never below zero)"
            )
            print("load average (1, 5, 15 min): " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 1000, int(args[1]) if len(args) > 1 else 2000, "--inline" in sys.argv)
