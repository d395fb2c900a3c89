"""Benchmark the billing run: ``python bench/billing_run.py N [--core]`` (PostgreSQL).

``--core`` measures billing's own work with other domains' billing-run sources and event
subscribers switched off; without it, everything registered in the app takes part.

Creates N organizations with 1-5 active services each in the database named by BENCH_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/h3bench, recreated from scratch), then times
``run_billing`` for one period and reports invoices finalized per second and peak memory (RSS).
E-mail jobs are queued to Redis (BENCH_REDIS_URL, default db 3, flushed after) and not sent.
"""

from __future__ import annotations

import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime


def main(n: int, core: bool = False) -> None:
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/h3bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
    os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="tessera-bench-"))
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import logging

    from flask_migrate import upgrade
    from sqlalchemy import insert, select, text

    from webapp import create_app
    from webapp.billing.models import BillingAccount, Invoice, Service
    from webapp.billing.services import run_billing
    from webapp.extensions import db
    from webapp.orgs.models import Organization

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "JOBS_BACKEND": "rq"})
    logging.disable(logging.WARNING)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(revision="heads")
        rng = random.Random(42)
        now = datetime.now(UTC)
        activated = datetime(2026, 1, 1, tzinfo=UTC)
        t0 = time.perf_counter()
        for start in range(0, n, 2000):
            count = min(2000, n - start)
            org_ids = (
                db.session.execute(
                    insert(Organization).returning(Organization.id, sort_by_parameter_order=True),
                    [
                        {
                            "name": f"Bench {i}",
                            "slug": f"bench-{i}",
                            "email": f"billing@bench-{i}.example",
                            "country": "ZW",
                            "timezone": "Africa/Harare",
                            "is_personal": False,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in range(start, start + count)
                    ],
                )
                .scalars()
                .all()
            )
            db.session.execute(
                insert(BillingAccount),
                [
                    {
                        "organization_id": oid,
                        "status": "ACTIVE",
                        "grace_period_days": 14,
                        "credit_balance": 0,
                        "currency": "USD",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for oid in org_ids
                ],
            )
            services = []
            for oid in org_ids:
                for k in range(rng.randint(1, 5)):
                    services.append(
                        {
                            "organization_id": oid,
                            "type": "POS_TERMINAL" if k else "POS_MAINTENANCE",
                            "name": f"Terminal {k + 1}",
                            "monthly_fee": rng.choice((1_500, 2_500, 3_500)),
                            "currency": "USD",
                            "status": "ACTIVE",
                            "activated_at": activated,
                            "suspended_by_dunning": False,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
            db.session.execute(insert(Service), services)
            db.session.commit()
        setup = time.perf_counter() - t0
        service_count = db.session.scalar(select(db.func.count()).select_from(Service))
        print(f"setup: {n} organizations, {service_count} services in {setup:.1f}s")

        if core:
            # Billing's own work only: other domains' sources and event subscribers switched off.
            from webapp.billing.services import BILLING_RUN_BATCH_SOURCES, BILLING_RUN_SOURCES
            from webapp.core import events

            BILLING_RUN_SOURCES.clear()
            BILLING_RUN_BATCH_SOURCES.clear()
            events._subscribers.clear()
        print(f"mode: {'billing core only' if core else 'with every registered source and event subscriber'}")
        t0 = time.perf_counter()
        run = run_billing("2026-10", commit=True)
        db.session.commit()
        elapsed = time.perf_counter() - t0
        invoices = run.counts["invoices"]
        lines = db.session.scalar(text("SELECT count(*) FROM billing_invoice_lines"))
        numbers = db.session.scalars(select(Invoice.number).order_by(Invoice.number)).all()
        assert len(set(numbers)) == invoices and numbers[-1].endswith(f"{invoices:06d}")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"billing run: {invoices} invoices ({lines} lines) finalized in {elapsed:.1f}s "
            f"= {invoices / elapsed:.0f} invoices/s; peak RSS {peak_mb:.0f} MB"
        )
        t0 = time.perf_counter()
        again = run_billing("2026-10", commit=True)
        db.session.commit()
        print(f"re-run of the same period: {again.counts['invoices']} new invoices in {time.perf_counter() - t0:.1f}s")
        app.extensions["tessera.redis"].flushdb()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 1000, core="--core" in sys.argv)
