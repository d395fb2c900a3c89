"""Console log benchmark: do the audit log and e-mail log pages stay fast on large tables?

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_logs .venv/bin/python bench/console_logs.py [N] [--reset]

Fills PostgreSQL with N audit entries (default 200,000) spread over 1,000 organizations and 50
actions, and N/10 e-mail log rows (a tenth of them FAILED), then requests the staff console's log
pages through the Flask test client as a staff user: the newest page, a page deep in the past
(keyset cursor), and each filter. For each it prints the median and p95 server time and the SQL
queries per request. SQLite is refused: the figures would say nothing about production.

The database must have no audit entries, or ``--reset`` drops and recreates its schema first.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, func, insert, select, text

REPEATS = 30
WARMUP = 3
CHUNK = 10_000
ORGS = 1_000
PASSWORD = "bench password 123"


def usage(message: str) -> None:
    print(message, file=sys.stderr)
    print(__doc__, file=sys.stderr)
    sys.exit(2)


def make_app(url: str):
    from webapp import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOGIN_LIMIT_PER_IP": "100000/minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "100000/minute",
            "JOBS_BACKEND": "inline",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": 1,
            "MAIL_TIMEOUT": 0.2,
        }
    )


def prepare(app, reset: bool) -> None:
    from flask_migrate import upgrade

    from webapp.audit.models import AuditEntry
    from webapp.extensions import db

    with app.app_context():
        if reset:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade(revision="heads")
        if db.session.scalar(select(func.count()).select_from(AuditEntry)):
            usage("The database already has audit entries. Use an empty database, or --reset.")


def fill(app, n: int) -> dict:
    from webapp.audit.models import AuditEntry
    from webapp.auth import services as accounts
    from webapp.core.models import utcnow
    from webapp.extensions import db
    from webapp.mail.models import EmailMessage
    from webapp.orgs.models import Organization

    began = time.perf_counter()
    with app.app_context():
        staff = accounts.sign_up("bench-staff@tessera.bench", PASSWORD, "Bench Staff")
        staff.is_staff, staff.email_verified_at = True, utcnow()
        db.session.commit()
        now = utcnow()
        with db.engine.begin() as conn:
            conn.execute(
                insert(Organization),
                [
                    {
                        "name": f"Log Org {i}",
                        "slug": f"log-org-{i}",
                        "email": f"o{i}@bench",
                        "country": "ZW",
                        "timezone": "UTC",
                        "is_personal": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(ORGS)
                ],
            )
            org_ids = list(conn.execute(select(Organization.id).order_by(Organization.id)).scalars())
        start = now - timedelta(days=365)
        step = timedelta(days=365) / n
        for low in range(0, n, CHUNK):
            high = min(low + CHUNK, n)
            with db.engine.begin() as conn:
                conn.execute(
                    insert(AuditEntry),
                    [
                        {
                            "created_at": start + step * i,
                            "actor_type": "user" if i % 3 else "system",
                            "actor_id": (i % 500) + 1 if i % 3 else None,
                            "actor_label": f"actor{i % 500}@bench" if i % 3 else "system",
                            "organization_id": org_ids[i % ORGS],
                            "action": f"noun{i % 10}.verb{i % 5}",
                            "entity_type": "Invoice",
                            "entity_id": i,
                            "details": {"n": i},
                        }
                        for i in range(low, high)
                    ],
                )
        emails = max(10, n // 10)
        for low in range(0, emails, CHUNK):
            high = min(low + CHUNK, emails)
            with db.engine.begin() as conn:
                conn.execute(
                    insert(EmailMessage),
                    [
                        {
                            "to_address": f"person{i}@example.com",
                            "subject": f"Invoice {i}",
                            "template": "billing/invoice",
                            "html_body": "<p>Hello</p>",
                            "text_body": "Hello",
                            "status": "FAILED" if i % 10 == 0 else "SENT",
                            "attempts": 1,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in range(low, high)
                    ],
                )
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        deep = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id).offset(n // 100).limit(1))
    return {"seconds": time.perf_counter() - began, "deep": deep, "org": "log-org-7"}


def measure(app, paths: list[str]) -> list[tuple[str, float, float, int]]:
    from tests.conftest import Browserish  # the same client the tests use: it logs in with the CSRF token
    from webapp.extensions import db

    client = Browserish(app.test_client())
    client.login("bench-staff@tessera.bench", PASSWORD)
    with app.app_context():
        engine = db.engine
    results = []
    for path in paths:
        count = 0

        def counter(*args):
            nonlocal count
            count += 1

        times = []
        for i in range(WARMUP + REPEATS):
            count = 0
            event.listen(engine, "before_cursor_execute", counter)
            began = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - began
            event.remove(engine, "before_cursor_execute", counter)
            assert response.status_code == 200, (path, response.status_code)
            if i >= WARMUP:
                times.append(elapsed * 1000)
        times.sort()
        results.append((path, statistics.median(times), times[int(len(times) * 0.95) - 1], count))
    return results


def main(argv: list[str]) -> None:
    reset = "--reset" in argv
    numbers = [a for a in argv if not a.startswith("--")]
    n = int(numbers[0]) if numbers else 200_000
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        usage("Set DATABASE_URL to a PostgreSQL database.")
    app = make_app(url)
    prepare(app, reset)
    info = fill(app, n)
    print(f"filled {n:,} audit entries and {max(10, n // 10):,} e-mails in {info['seconds']:.1f} s")
    today = datetime.now(UTC).date()
    paths = [
        "/admin/audit",
        f"/admin/audit?before={info['deep']}",
        "/admin/audit?action=noun3.verb3",
        "/admin/audit?action=noun3.",
        f"/admin/audit?org={info['org']}",
        "/admin/audit?entity_type=Invoice&entity_id=4242",
        "/admin/audit?actor=actor7@bench",
        f"/admin/audit?since={today - timedelta(days=40)}&until={today - timedelta(days=30)}",
        "/admin/emails",
        "/admin/emails?status=FAILED",
        "/admin/emails?to=person4242",
        "/admin/emails?to=person4242@example.com",
    ]
    print(f"{'page':<62} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for path, median, p95, queries in measure(app, paths):
        print(f"{path:<62} {median:>10.1f} {p95:>8.1f} {queries:>8}")


if __name__ == "__main__":
    main(sys.argv[1:])
