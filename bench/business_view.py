"""Business view benchmark: is /admin/ (webapp.admin.figures) flat as organizations grow?

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/h7bench .venv/bin/python bench/business_view.py [N]

Recreates the schema of that PostgreSQL database, bulk-inserts N organizations (default 10,000) each
with a billing account, a subscription, 12 monthly invoices and 12 payments, then measures
``business_figures()`` and the whole /admin/ page through the test client (median and p95 of 20
runs) and the SQL statements each needs.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, insert, text

CHUNK = 5000
RUNS = 20


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("set DATABASE_URL to a scratch PostgreSQL database")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.admin.figures import business_figures
    from webapp.auth import services as accounts
    from webapp.billing.models import BillingAccount, Invoice, Payment
    from webapp.extensions import db
    from webapp.orgs.models import Organization
    from webapp.subscriptions.models import Plan, Subscription

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "JOBS_BACKEND": "inline",
            "RATELIMIT_STORAGE_URI": "memory://",
            "MAIL_PORT": 1,
        }
    )
    rng = random.Random(7)
    now = datetime.now(UTC)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(revision="heads")
        plans = [
            Plan(code=f"B{i}", name=f"Bench {i}", monthly_price=1000 * (i + 1), sort_order=100 + i) for i in range(3)
        ]
        db.session.add_all(plans)
        staff = accounts.sign_up("bench-staff@example.com", "bench password 123", "Bench Staff")
        staff.is_staff = True
        staff.email_verified_at = now
        db.session.commit()
        started = time.perf_counter()
        for base in range(0, n, CHUNK):
            size = min(CHUNK, n - base)
            orgs = [
                {
                    "name": f"Bench {base + i}",
                    "slug": f"bench-{base + i}",
                    "email": "b@example.com",
                    "country": "ZW",
                    "timezone": "UTC",
                    "is_personal": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(size)
            ]
            org_ids = db.session.scalars(insert(Organization).returning(Organization.id), orgs).all()
            acct_rows = [
                {
                    "organization_id": o,
                    "status": rng.choice(["ACTIVE"] * 18 + ["OVERDUE", "SUSPENDED"]),
                    "created_at": now,
                    "updated_at": now,
                }
                for o in org_ids
            ]
            acct_ids = db.session.scalars(insert(BillingAccount).returning(BillingAccount.id), acct_rows).all()
            subs, invoices, payments = [], [], []
            for org_id, acct_id in zip(org_ids, acct_ids, strict=True):
                created = now - timedelta(days=rng.randint(1, 720))
                status = rng.choice(["ACTIVE"] * 8 + ["TRIALING", "CANCELED", "PAST_DUE"])
                ended = now - timedelta(days=rng.randint(0, 300)) if status == "CANCELED" else None
                plan = rng.choice(plans)
                subs.append(
                    {
                        "organization_id": org_id,
                        "plan_id": plan.id,
                        "status": status,
                        "billing_interval": rng.choice(["MONTHLY"] * 4 + ["YEARLY"]),
                        "amount": plan.monthly_price,
                        "currency": "USD",
                        "current_period_start": now,
                        "current_period_end": now + timedelta(days=30),
                        "trial_end": now + timedelta(days=rng.randint(-30, 20)) if status == "TRIALING" else None,
                        "ended_at": ended,
                        "created_at": created,
                        "updated_at": now,
                    }
                )
                for m in range(12):
                    issued = now - timedelta(days=30 * m + 5)
                    st = "PAID" if m > 1 else rng.choice(["PAID", "ISSUED", "OVERDUE"])
                    invoices.append(
                        {
                            "organization_id": org_id,
                            "account_id": acct_id,
                            "status": st,
                            "currency": "USD",
                            "period_start": date(2026, 1, 1),
                            "period_end": date(2026, 1, 31),
                            "total": plan.monthly_price,
                            "amount_due": 0 if st == "PAID" else plan.monthly_price,
                            "issued_at": issued,
                            "due_at": issued + timedelta(days=14),
                            "created_at": issued,
                            "updated_at": now,
                        }
                    )
                    payments.append(
                        {
                            "organization_id": org_id,
                            "account_id": acct_id,
                            "amount": plan.monthly_price,
                            "currency": "USD",
                            "method": rng.choice(["PAYNOW_ECOCASH", "BANK_TRANSFER", "CASH"]),
                            "provider": "manual",
                            "status": "PAID",
                            "completed_at": issued + timedelta(days=3),
                            "initiated_at": issued,
                            "created_at": issued,
                            "updated_at": now,
                        }
                    )
            db.session.execute(insert(Subscription), subs)
            db.session.execute(insert(Invoice), invoices)
            db.session.execute(insert(Payment), payments)
            db.session.commit()
        print(f"filled {n} organizations, {n * 12} invoices, {n * 12} payments in {time.perf_counter() - started:.1f}s")
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))

        statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        times = []
        for _ in range(RUNS):
            statements.clear()
            t0 = time.perf_counter()
            business_figures()
            times.append((time.perf_counter() - t0) * 1000)
            db.session.rollback()
        print(
            f"business_figures(): median {statistics.median(times):.1f} ms, "
            f"p95 {sorted(times)[int(RUNS * 0.95) - 1]:.1f} ms, {len(statements)} SQL statements"
        )

    client = app.test_client()
    client.post("/auth/login", data={"email": "bench-staff@example.com", "password": "bench password 123"})
    times = []
    for _ in range(RUNS):
        statements.clear()
        t0 = time.perf_counter()
        response = client.get("/admin/")
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
    print(
        f"GET /admin/: median {statistics.median(times):.1f} ms, p95 {sorted(times)[int(RUNS * 0.95) - 1]:.1f} ms, "
        f"{len(statements)} SQL statements"
    )


if __name__ == "__main__":
    main()
