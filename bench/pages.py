"""Page benchmark: do the dashboard, members and staff list pages stay flat as the tables grow?

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/tessera_bench .venv/bin/python bench/pages.py [N] [--reset]

Fills PostgreSQL (SQLite is refused: the figures would say nothing about production) with N/10
organizations and users, measures, grows to N (default 10,000) and measures again. Each page is
requested through the Flask test client; for each it prints the median and p95 server time and
the SQL queries per request (counted by an engine event), then whether the query count grows
with N. Rows are bulk-inserted; the organization and users being measured are made through the
real services, so their pages look like a real customer's.

The database must have no users, or ``--reset`` drops and recreates its schema first.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, func, insert, select, text

REPEATS = 40
WARMUP = 3
CHUNK = 5000
PASSWORD = "bench password 123"


def usage(message: str) -> None:
    print(message, file=sys.stderr)
    print(__doc__, file=sys.stderr)
    sys.exit(2)


def parse_args(argv: list[str]) -> tuple[int, bool]:
    reset = "--reset" in argv
    numbers = [a for a in argv if not a.startswith("--")]
    n = int(numbers[0]) if numbers else 10_000
    if n < 10:
        usage("N must be at least 10")
    return n, reset


def make_app(url: str):
    from webapp import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOGIN_LIMIT_PER_IP": "100000/minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "100000/minute",
            "JOBS_BACKEND": "inline",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": 1,  # nothing is delivered: sign-up mail fails fast and is logged as FAILED
            "MAIL_TIMEOUT": 0.2,
        }
    )


def prepare(app, reset: bool) -> None:
    from flask_migrate import upgrade

    from webapp.auth.models import User
    from webapp.extensions import db

    with app.app_context():
        if reset:  # a clean schema, then every migration
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade(revision="heads")
        if db.session.scalar(select(func.count()).select_from(User)):
            usage("The database already has users. Use an empty database, or --reset to drop and recreate its schema.")


def measured_setup(app) -> dict:
    """The organization and people whose pages are measured, made through the real services."""
    from webapp.auth import services as accounts
    from webapp.core.models import utcnow
    from webapp.extensions import db
    from webapp.orgs import services as orgs
    from webapp.orgs.models import Membership

    with app.app_context():
        owner = accounts.sign_up("bench-owner@tessera.bench", PASSWORD, "Bench Owner")
        staff = accounts.sign_up("bench-staff@tessera.bench", PASSWORD, "Bench Staff")
        staff.is_staff = True
        for user in (owner, staff):
            user.email_verified_at = utcnow()
        org = orgs.create_organization(owner, "Bench Holdings", "bench-holdings", "bench@tessera.bench")
        owner_membership = db.session.scalar(
            select(Membership).where(Membership.organization_id == org.id, Membership.user_id == owner.id)
        )
        for n in range(3):  # before the members, so the free plan's user limit lets them through
            orgs.invite_member(org, owner_membership, f"bench-invitee-{n}@tessera.bench", "MEMBER")
        for n, role in enumerate(["ADMIN", "MEMBER", "MEMBER", "BILLING", "MEMBER"] * 4):
            member = accounts.sign_up(f"bench-member-{n}@tessera.bench", PASSWORD, f"Member {n}")
            db.session.add(Membership(organization_id=org.id, user_id=member.id, role=role))
        db.session.commit()
        return {"slug": org.slug}


def fill(app, start: int, stop: int) -> float:
    """Users start..stop-1, each owning one organization; every tenth also a member of its neighbour's."""
    from webapp.auth.models import User
    from webapp.auth.services import hash_password
    from webapp.core.models import utcnow
    from webapp.extensions import db
    from webapp.orgs.models import Membership, Organization

    began = time.perf_counter()
    password_hash = hash_password(PASSWORD)
    with app.app_context():
        for low in range(start, stop, CHUNK):
            high = min(low + CHUNK, stop)
            now = utcnow()
            with db.engine.begin() as conn:
                conn.execute(
                    insert(User),
                    [
                        {
                            "email": f"user{i}@bulk.tessera.bench",
                            "name": f"Bulk User {i}",
                            "password_hash": password_hash,
                            "email_verified_at": now,
                            "is_staff": False,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in range(low, high)
                    ],
                )
                conn.execute(
                    insert(Organization),
                    [
                        {
                            "name": f"Bulk Organization {i}",
                            "slug": f"bulk-org-{i}",
                            "email": f"accounts{i}@bulk.tessera.bench",
                            "country": "ZW",
                            "timezone": "Africa/Harare",
                            "is_personal": False,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in range(low, high)
                    ],
                )
                users = dict(
                    conn.execute(
                        select(User.email, User.id).where(
                            User.email.in_([f"user{i}@bulk.tessera.bench" for i in range(low, high)])
                        )
                    ).all()
                )
                org_ids = dict(
                    conn.execute(
                        select(Organization.slug, Organization.id).where(
                            Organization.slug.in_([f"bulk-org-{i}" for i in range(low, high)])
                        )
                    ).all()
                )
                rows = []
                for i in range(low, high):
                    user_id = users[f"user{i}@bulk.tessera.bench"]
                    rows.append(
                        {
                            "organization_id": org_ids[f"bulk-org-{i}"],
                            "user_id": user_id,
                            "role": "OWNER",
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    if i % 10 == 0 and i + 1 < high:
                        rows.append(
                            {
                                "organization_id": org_ids[f"bulk-org-{i + 1}"],
                                "user_id": user_id,
                                "role": "MEMBER",
                                "created_at": now,
                                "updated_at": now,
                            }
                        )
                conn.execute(insert(Membership), rows)
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - began


def pages(app, slug: str) -> list[tuple[str, str]]:
    """(who, path) for every page measured; staff pages only where another engineer has built them."""
    rules = {r.rule for r in app.url_map.iter_rules()}
    wanted = [
        ("owner", f"/o/{slug}/", "/o/<slug>/"),
        ("owner", f"/o/{slug}/members", "/o/<slug>/members"),
        ("staff", "/admin/", "/admin/"),
        ("staff", "/admin/orgs", "/admin/orgs"),
        ("staff", "/admin/orgs/", "/admin/orgs/"),
        ("staff", "/admin/users", "/admin/users"),
        ("staff", "/admin/users/", "/admin/users/"),
        ("staff", "/admin/users?q=bulk", "/admin/users"),
        ("staff", "/admin/orgs?q=bulk", "/admin/orgs"),
        ("staff", "/admin/users?q=bulk", "/admin/users/"),
        ("staff", "/admin/orgs?q=bulk", "/admin/orgs/"),
    ]
    return [(who, path) for who, path, rule in wanted if rule in rules]


def measure(app, slug: str) -> dict[str, dict]:
    from webapp.extensions import db

    clients = {}
    for who, email in (("owner", "bench-owner@tessera.bench"), ("staff", "bench-staff@tessera.bench")):
        client = app.test_client()
        response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 303, response.status_code
        clients[who] = client

    counter = {"n": 0}

    with app.app_context():
        engine = db.engine

    def count(*_args, **_kwargs):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    results = {}
    try:
        for who, path in pages(app, slug):
            client = clients[who]
            times, queries, status = [], [], None
            for attempt in range(WARMUP + REPEATS):
                counter["n"] = 0
                began = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - began
                status = response.status_code
                if attempt >= WARMUP:
                    times.append(elapsed * 1000)
                    queries.append(counter["n"])
            times.sort()
            results[path] = {
                "status": status,
                "median_ms": statistics.median(times),
                "p95_ms": times[max(0, int(len(times) * 0.95) - 1)],
                "queries": max(queries),
            }
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return results


def report(label: str, results: dict[str, dict]) -> None:
    print(f"\n{label}")
    print(f"  {'page':<28} {'status':>6} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for path, r in results.items():
        print(f"  {path:<28} {r['status']:>6} {r['median_ms']:>10.1f} {r['p95_ms']:>8.1f} {r['queries']:>8}")


def main(argv: list[str]) -> int:
    n, reset = parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgresql://", "postgresql+psycopg://")):
        usage("DATABASE_URL must point at PostgreSQL (SQLite is refused).")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    app = make_app(url)
    prepare(app, reset)
    setup = measured_setup(app)
    small = n // 10
    took = fill(app, 0, small)
    print(f"filled {small:,} organizations and users in {took:.1f}s")
    at_small = measure(app, setup["slug"])
    report(f"N/10 = {small:,}", at_small)
    took = fill(app, small, n)
    print(f"\nfilled {n - small:,} more in {took:.1f}s")
    at_n = measure(app, setup["slug"])
    report(f"N = {n:,}", at_n)

    print("\nqueries per request, N/10 -> N:")
    grows = False
    for path in at_n:
        before, after = at_small[path]["queries"], at_n[path]["queries"]
        flag = "GROWS" if after > before else "flat"
        grows = grows or after > before
        print(f"  {path:<28} {before:>4} -> {after:<4} {flag}")
    print("\nquery counts grow with N" if grows else "\nquery counts do not grow with N")
    bad = [p for p, r in at_n.items() if r["status"] != 200]
    if bad:
        print(f"pages not answering 200: {bad}")
    return 1 if grows or bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
