"""Workflow runs and AI credit reservations: ``python bench/workflow_runs.py [RUNS] [RESERVATIONS]``.

PostgreSQL (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/h8bench, schema
recreated). Times (1) RUNS executions of a 3-step workflow (condition, invoice line, condition),
run in-process one after another, each step's status committed as it happens; (2) RESERVATIONS
credit reservations + settlements from 20 threads against one balance (the conditional UPDATE).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time


def main(runs: int, reservations: int) -> None:
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/h8bench")
    os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="tessera-bench-"))
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import logging

    from flask_migrate import upgrade
    from sqlalchemy import text

    from webapp import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
            "JOBS_BACKEND": "inline",
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 25},
        }
    )
    logging.getLogger().setLevel(logging.WARNING)
    from webapp.extensions import db

    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(revision="heads")
        from webapp.ai import credits
        from webapp.auth.services import sign_up
        from webapp.orgs.services import create_organization
        from webapp.workflows import execution, services

        owner = sign_up("bench@example.com", "correct horse battery", "Bench")
        org = create_organization(owner, "Bench", "bench-org", "bench@example.com", "ZW", "Africa/Harare")
        workflow = services.create_workflow(org, owner, "Bench flow")
        workflow.max_concurrency = 1
        for type_, config in (
            ("condition", {"expression": "trigger.n >= 0"}),
            ("invoice_line", {"description": "Item {{ trigger.n }}", "amount": "1.00", "currency": "USD"}),
            ("condition", {"expression": "step2.status == 'PENDING'"}),
        ):
            services.add_step(workflow, owner, type_).config = config
        db.session.commit()
        ids = []
        for n in range(runs):
            run = execution.WorkflowRun(
                organization_id=org.id, workflow_id=workflow.id, trigger_type="manual", trigger_payload={"n": n}
            )
            db.session.add(run)
            db.session.flush()
            ids.append(run.id)
        db.session.commit()
        started = time.perf_counter()
        for run_id in ids:
            assert execution.execute(run_id) == "SUCCEEDED"
        elapsed = time.perf_counter() - started
        print(
            f"runs: {runs} x 3 steps in {elapsed:.2f} s = {runs / elapsed:.1f} runs/s "
            f"({elapsed / runs * 1000:.1f} ms per run)"
        )

        balance = credits.balance_of(org)
        db.session.commit()
        credits.adjust(org, owner, reservations * 2 - balance.balance, "ADMIN_ADJUSTMENT", "bench")
        db.session.commit()
        org_id = org.id
        done = []

        def worker(count):
            with app.app_context():
                for _ in range(count):
                    txn = credits.reserve(org_id, 3, user_id=None, service="CHAT_ASSISTANT", operation="bench")
                    if txn is not None:
                        credits.settle(org_id, txn, 3, 2, "bench", {})
                        done.append(1)

        threads = [threading.Thread(target=worker, args=(reservations // 20,)) for _ in range(20)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        db.session.expire_all()
        final = credits.balance_of(org).balance
        print(
            f"credits: {len(done)} reserve+settle pairs from 20 threads in {elapsed:.2f} s = "
            f"{len(done) / elapsed:.0f}/s; balance {reservations * 2} -> {final} (never below zero)"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200, int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
