"""A hundred times the data: ``python bench/scale.py [--factor F] [--heavy-events N] [--no-billing]``.

Creates its own PostgreSQL database (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/tessera_scale, its schema emptied) and
fills it with COPY, not the ORM, at ``F`` x (100,000 organizations with billing accounts and 1-3
services each, 10,000,000 usage events, 5,000,000 audit entries, 1,000,000 outbound calls and
1,000,000 e-mails). The organization whose pages are measured is made through the real services
and gets ``N`` usage events of its own (default 1,000,000, over the last 30 days).

It fills 1,000 organizations (or a tenth, if fewer) with their share first and measures, then the
rest and measures again:

- the billing run over every organization, in a process of its own (seconds, seconds per 1,000
  invoices, peak RSS), then the same period again (idempotent: 0 new invoices), then
  ``bench/billing_run.py N --core`` in a database of its own (``--reference N``, default 10,000
  organizations), so the ratio of the two is measured at the same load;
- p95 server time and SQL statements per request (an engine event counts them) of the dashboard,
  the usage page (of the organization with N events), the invoice list and every console list,
  through the Flask test client, at both sizes: the statement count must not grow.

Each figure is printed next to its goal. Redis: BENCH_REDIS_URL (default redis://127.0.0.1:6379/5,
flushed): the billing run queues its e-mail jobs there, none is sent.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _shared import fresh_database, percentile  # noqa: E402 (bench/ is the script's folder)

FULL = {"orgs": 100_000, "events": 10_000_000, "audit": 5_000_000, "calls": 1_000_000, "emails": 1_000_000}
PASSWORD = "bench password 123"
REPEATS, WARMUP = 30, 3
PERIODS = ("2026-10", "2026-11")  # billed at the small size and at the full one
CONSOLE_LISTS = (
    "/admin/orgs",
    "/admin/users",
    "/admin/invoices",
    "/admin/payments",
    "/admin/credits",
    "/admin/credit-notes",
    "/admin/services",
    "/admin/audit",
    "/admin/calls/",
    "/admin/emails",
    "/admin/jobs",
    "/admin/support/",
    "/admin/alerts/",
    "/admin/ai-credits",
    "/admin/workflow-lines",
    "/admin/referrals/",
    "/admin/coupons/",
    "/admin/plans/",
)
EVENT_TYPES = ("api.request", "pos.transaction", "sms.sent")
ACCOUNT_COLUMNS = ("organization_id", "status", "grace_period_days", "credit_balance", "currency")
ACCOUNT_COLUMNS += ("created_at", "updated_at")
AUDIT_COLUMNS = ("created_at", "actor_type", "actor_label", "organization_id", "action", "entity_type", "entity_id")
AUDIT_COLUMNS += ("details", "ip_address")
CALL_COLUMNS = ("created_at", "organization_id", "provider", "action", "method", "endpoint", "status_code", "success")
CALL_COLUMNS += ("duration_ms", "attempt", "details")
EMAIL_COLUMNS = ("organization_id", "to_address", "subject", "template", "html_body", "text_body", "status", "attempts")
EMAIL_COLUMNS += ("sent_at", "created_at", "updated_at")


def _env(database: str, redis_url: str, instance: str) -> None:
    os.environ.update(
        DATABASE_URL=database,
        REDIS_URL=redis_url,
        JOBS_BACKEND="rq",
        INSTANCE_PATH=instance,
        STORAGE_PATH=str(Path(instance) / "storage"),
        RATELIMIT_STORAGE_URI="memory://",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT="1",
    )


def _app():
    from webapp import create_app

    return create_app(
        {
            "WTF_CSRF_ENABLED": False,
            "LOGIN_LIMIT_PER_IP": "100000/minute",
            "LOGIN_LIMIT_PER_ACCOUNT": "100000/minute",
        }
    )


# ----------------------------------------------------------------------------- COPY


def _text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def copy(conn, table: str, columns: tuple[str, ...], rows, chunk: int = 50_000) -> int:
    """COPY ``rows`` (tuples in ``columns`` order) into ``table``, written in chunks."""
    count = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as out:
        buffer = io.StringIO()
        for row in rows:
            buffer.write("\t".join(map(_text, row)))
            buffer.write("\n")
            count += 1
            if count % chunk == 0:
                out.write(buffer.getvalue())
                buffer = io.StringIO()
        out.write(buffer.getvalue())
    return count


def fill(engine, start: int, stop: int, factor: float, now: datetime, rng: random.Random) -> dict[str, int]:
    """Organizations ``start``..``stop``-1 of the full set (ids offset past the measured ones) and
    their share of events, audit entries, calls and e-mails."""
    share = (stop - start) / (FULL["orgs"] * factor)  # of the factor's events, audit entries, calls, e-mails
    counts = {}
    base = 1_000  # below: the organizations the services made
    org_ids = range(base + start, base + stop)
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        counts["organizations"] = copy(
            conn,
            "organizations",
            ("id", "name", "slug", "email", "country", "timezone", "is_personal", "created_at", "updated_at"),
            (
                (
                    i,
                    f"Scale Org {i}",
                    f"scale-{i}",
                    f"billing@scale-{i}.example",
                    "ZW",
                    "Africa/Harare",
                    False,
                    now,
                    now,
                )
                for i in org_ids
            ),
        )
        copy(
            conn,
            "billing_accounts",
            ACCOUNT_COLUMNS,
            ((i, "ACTIVE", 14, 0, "USD", now, now) for i in org_ids),
        )
        activated = datetime(2026, 1, 1, tzinfo=UTC)
        counts["services"] = copy(
            conn,
            "billing_services",
            (
                "organization_id",
                "type",
                "name",
                "monthly_fee",
                "currency",
                "status",
                "activated_at",
                "suspended_by_dunning",
                "created_at",
                "updated_at",
            ),
            (
                (
                    i,
                    "POS_TERMINAL" if k else "POS_MAINTENANCE",
                    f"Terminal {k + 1}",
                    2_500,
                    "USD",
                    "ACTIVE",
                    activated,
                    False,
                    now,
                    now,
                )
                for i in org_ids
                for k in range(1 + i % 3)
            ),
        )
        n_orgs = len(org_ids)
        lo = org_ids[0]
        events = int(FULL["events"] * factor * share)
        counts["usage_events"] = copy(
            conn,
            "usage_events",
            ("organization_id", "event_id", "event_type", "quantity", "timestamp", "data", "received_at"),
            (
                (lo + j % n_orgs, f"e{start}-{j}", EVENT_TYPES[j % 3], 1 + j % 7, t, "{}", t)
                for j in range(events)
                for t in (now - timedelta(seconds=rng.randrange(90 * 86400)),)
            ),
        )
        audit = int(FULL["audit"] * factor * share)
        counts["audit_entries"] = copy(
            conn,
            "audit_entries",
            AUDIT_COLUMNS,
            (
                (
                    now - timedelta(seconds=rng.randrange(365 * 86400)),
                    "system",
                    "System",
                    lo + j % n_orgs,
                    ("invoice.finalized", "payment.received", "member.invited")[j % 3],
                    "invoice",
                    j,
                    "{}",
                    "127.0.0.1",
                )
                for j in range(audit)
            ),
        )
        calls = int(FULL["calls"] * factor * share)
        counts["outbound_calls"] = copy(
            conn,
            "outbound_calls",
            CALL_COLUMNS,
            (
                (
                    now - timedelta(seconds=rng.randrange(90 * 86400)),
                    lo + j % n_orgs,
                    ("freee", "google_drive", "paynow", "stripe")[j % 4],
                    "fetch",
                    "GET",
                    "https://api.example/v1/x",
                    200 if j % 20 else 500,
                    bool(j % 20),
                    40 + j % 300,
                    1,
                    "{}",
                )
                for j in range(calls)
            ),
        )
        emails = int(FULL["emails"] * factor * share)
        counts["email_messages"] = copy(
            conn,
            "email_messages",
            EMAIL_COLUMNS,
            (
                (
                    lo + j % n_orgs,
                    f"billing@scale-{lo + j % n_orgs}.example",
                    f"Invoice {j}",
                    "billing/invoice",
                    f"<p>Invoice {j} is ready.</p>",
                    f"Invoice {j} is ready.",
                    "SENT",
                    1,
                    t,
                    t,
                    t,
                )
                for j in range(emails)
                for t in (now - timedelta(seconds=rng.randrange(90 * 86400)),)
            ),
        )
        conn.execute("SELECT setval('organizations_id_seq', (SELECT max(id) FROM organizations))")
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")
        conn.autocommit = False
    finally:
        raw.close()
    return counts


def heavy_events(engine, org_id: int, n: int, now: datetime, rng: random.Random, tag: str) -> int:
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        count = copy(
            conn,
            "usage_events",
            ("organization_id", "event_id", "event_type", "quantity", "timestamp", "data", "received_at"),
            (
                (org_id, f"heavy-{tag}{j}", EVENT_TYPES[j % 3], 1 + j % 7, t, "{}", t)
                for j in range(n)
                for t in (now - timedelta(seconds=rng.randrange(30 * 86400)),)
            ),
        )
        conn.commit()
    finally:
        raw.close()
    return count


# ----------------------------------------------------------------------------- measuring


def measured_setup(app) -> str:
    """The organization and the staff member whose pages are measured, made through the services."""
    from webapp.auth import services as accounts
    from webapp.billing.models import Service
    from webapp.core.models import utcnow
    from webapp.extensions import db
    from webapp.orgs import services as orgs

    with app.app_context():
        owner = accounts.sign_up("scale-owner@tessera.bench", PASSWORD, "Scale Owner")
        staff = accounts.sign_up("scale-staff@tessera.bench", PASSWORD, "Scale Staff")
        staff.is_staff = True
        for user in (owner, staff):
            user.email_verified_at = utcnow()
        org = orgs.create_organization(owner, "Scale Holdings", "scale-holdings", "scale@tessera.bench")
        db.session.flush()
        db.session.add(
            Service(
                organization_id=org.id,
                type="POS_TERMINAL",
                name="Till 1",
                monthly_fee=2_500,
                currency="USD",
                status="ACTIVE",
                activated_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        db.session.commit()
        return org.slug


def pages(app, slug: str) -> list[tuple[str, str, str]]:
    """(label, who, path); console lists only where the route exists."""
    rules = {r.rule for r in app.url_map.iter_rules()}
    wanted = [
        ("dashboard", "owner", f"/o/{slug}/", "/o/<slug>/"),
        ("usage page (heavy org)", "owner", f"/o/{slug}/usage", "/o/<slug>/usage"),
        ("invoice list", "owner", f"/o/{slug}/billing/invoices", "/o/<slug>/billing/invoices"),
        ("console dashboard", "staff", "/admin/", "/admin/"),
    ] + [(f"console {path}", "staff", path, path) for path in CONSOLE_LISTS]
    return [(label, who, path) for label, who, path, rule in wanted if rule in rules]


def measure(app, slug: str) -> dict[str, dict]:
    from sqlalchemy import event

    from webapp.extensions import db

    clients = {}
    for who, email in (("owner", "scale-owner@tessera.bench"), ("staff", "scale-staff@tessera.bench")):
        client = app.test_client()
        response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 303, (email, response.status_code)
        clients[who] = client
    with app.app_context():
        engine = db.engine
    counter = {"n": 0}

    def count(*_args, **_kwargs):
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    results = {}
    try:
        for label, who, path in pages(app, slug):
            times, queries, status = [], [], None
            for attempt in range(WARMUP + REPEATS):
                counter["n"] = 0
                began = time.perf_counter()
                response = clients[who].get(path)
                elapsed = (time.perf_counter() - began) * 1000
                status = response.status_code
                if attempt >= WARMUP:
                    times.append(elapsed)
                    queries.append(counter["n"])
            results[label] = {"path": path, "status": status, "p95": percentile(times, 95), "queries": max(queries)}
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return results


def bill(period: str) -> None:
    """In a process of its own (``--bill``): the billing run, its time and this process's peak RSS."""
    from webapp.billing.services.run import run_billing
    from webapp.extensions import db

    app = _app()
    import logging

    logging.disable(logging.WARNING)
    with app.app_context():
        began = time.perf_counter()
        run = run_billing(period, commit=True)
        db.session.commit()
        elapsed = time.perf_counter() - began
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": elapsed, "rss_mb": peak, "invoices": run.counts.get("invoices", 0)}))


def run_bill(period: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--bill", period], capture_output=True, text=True, env=dict(os.environ), check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def billing(orgs: int, factor: float, reference: int) -> None:
    """The billing run over every organization, then the same period again (0 new invoices), and
    ``bench/billing_run.py REFERENCE --core`` right after in a database of its own, for the ratio."""
    load = os.getloadavg()[0]
    bill_full = run_bill(PERIODS[1])
    again = run_bill(PERIODS[1])
    seconds_goal = 120 * factor
    per_k = bill_full["seconds"] / max(1, bill_full["invoices"]) * 1000
    print(
        f"\nbilling run over {orgs:,} organizations: {bill_full['invoices']:,} invoices "
        f"in {bill_full['seconds']:.1f} s = {per_k:.2f} s per 1,000 (goal < 120 s at full size, i.e. "
        f"< 1.2 s per 1,000, so < {seconds_goal:.0f} s at factor {factor}), "
        f"peak RSS {bill_full['rss_mb']:.0f} MB (goal < 400 MB); load average {load:.1f} at its start"
    )
    print(f"re-run of the same period: {again['invoices']} new invoices in {again['seconds']:.1f} s (goal 0 new)")
    if not reference:
        return
    base = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/tessera_scale")
    url = base + "_reference"
    fresh_database(url)
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "billing_run.py"), str(reference), "--core"],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_DATABASE_URL": url, "BENCH_REDIS_URL": os.environ["REDIS_URL"]},
        check=True,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("billing run:"))
    ref_seconds = float(line.split(" finalized in ")[1].split("s")[0])
    ref_per_k = ref_seconds / reference * 1000
    print(
        f"reference, bench/billing_run.py {reference:,} --core (ORM-filled, billing's own work only), "
        f"load average {os.getloadavg()[0]:.1f}: {line.removeprefix('billing run: ')}; {ref_per_k:.2f} s per 1,000 "
        f"-> this run takes {per_k / ref_per_k:.2f}x the reference's time per invoice"
    )


def report(label: str, results: dict[str, dict], goal_ms: dict[str, float]) -> None:
    print(f"\n{label}")
    print(f"  {'page':<34} {'status':>6} {'p95 ms':>8} {'goal':>7} {'queries':>8}")
    for name, r in results.items():
        goal = goal_ms.get(name, 50)
        mark = "" if r["p95"] < goal else "  NOT MET"
        print(f"  {name:<34} {r['status']:>6} {r['p95']:>8.1f} {'< ' + str(goal):>7} {r['queries']:>8}{mark}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factor", type=float, default=1.0)
    parser.add_argument("--heavy-events", type=int, default=1_000_000)
    parser.add_argument("--no-billing", action="store_true", help="skip the billing run at full size")
    parser.add_argument(
        "--reference",
        type=int,
        default=10_000,
        help="organizations for bench/billing_run.py --core, run after the billing run for the ratio (0: none)",
    )
    parser.add_argument("--bill", help=argparse.SUPPRESS)
    args = parser.parse_args()
    database = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/tessera_scale")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    if args.bill:
        bill(args.bill)
        return 0
    instance = tempfile.mkdtemp(prefix="tessera-bench-")
    _env(database, redis_url, instance)
    import logging

    from flask_migrate import upgrade
    from redis import Redis

    from webapp.extensions import db

    orgs = int(FULL["orgs"] * args.factor)
    small = max(10, min(1_000, orgs // 10))  # the reference: the pages at 1,000 organizations
    goals = {"usage page (heavy org)": 100}
    now = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(19)
    print(f"factor {args.factor}: {orgs:,} organizations; heavy organization {args.heavy_events:,} events")
    fresh_database(database)
    app = _app()
    logging.getLogger().setLevel(logging.WARNING)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        # The months the generated history spans get their partitions, as the partition job keeps them in
        # production; otherwise every older row lands in the DEFAULT partition and each read of a
        # partitioned table (the usage page's event list) scans it.
        from webapp.core import partitions

        partitions.ensure_partitions(since=now - timedelta(days=366))
        db.session.commit()
        engine = db.engine
    slug = measured_setup(app)
    Redis.from_url(redis_url).flushdb()
    began = time.perf_counter()
    counts = fill(engine, 0, small, args.factor, now, rng)
    with app.app_context():
        org_id = db.session.execute(db.text("SELECT id FROM organizations WHERE slug = :s"), {"s": slug}).scalar()
        db.session.rollback()
    heavy = heavy_events(engine, org_id, args.heavy_events * small // orgs, now, rng, "a")
    counts["heavy organization's usage_events"] = heavy
    print(f"filled {small:,} organizations in {time.perf_counter() - began:.1f} s: {counts}")
    first = run_bill(PERIODS[0])
    print(f"billing run at {small:,} organizations: {first['invoices']:,} invoices in {first['seconds']:.1f} s")
    at_small = measure(app, slug)
    report(f"at {small:,} organizations", at_small, goals)

    began = time.perf_counter()
    counts = fill(engine, small, orgs, args.factor, now, rng)
    heavy += heavy_events(engine, org_id, args.heavy_events - heavy, now, rng, "b")
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    print(f"\nfilled the rest in {time.perf_counter() - began:.1f} s: {counts}, heavy organization {heavy:,} events")
    with engine.connect() as conn:
        sizes = conn.exec_driver_sql(  # a partitioned table's rows are its partitions'
            "SELECT coalesce(p.relname, c.relname) AS name, sum(s.n_live_tup) FROM pg_stat_user_tables s "
            "JOIN pg_class c ON c.oid = s.relid LEFT JOIN pg_inherits i ON i.inhrelid = c.oid "
            "LEFT JOIN pg_class p ON p.oid = i.inhparent WHERE coalesce(p.relname, c.relname) IN "
            "('organizations','usage_events','audit_entries','outbound_calls','email_messages') "
            "GROUP BY 1 ORDER BY 1"
        ).all()
    print("rows: " + ", ".join(f"{name} {n:,}" for name, n in sizes))

    if args.no_billing:
        print("\nbilling run at full size: skipped (--no-billing)")
    else:
        billing(orgs, args.factor, args.reference)
    at_full = measure(app, slug)
    report(f"at {orgs:,} organizations", at_full, goals)
    print(f"\nqueries per request, {small:,} -> {orgs:,} organizations (goal: the same)")
    grows = False
    for name, r in at_full.items():
        before = at_small[name]["queries"]
        flag = "GROWS" if r["queries"] > before else "same" if r["queries"] == before else "fewer"
        grows = grows or r["queries"] > before
        print(f"  {name:<34} {before:>4} -> {r['queries']:<4} {flag}")
    print("load average (1, 5, 15 min): " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    Redis.from_url(redis_url).flushdb()
    return 1 if grows else 0


if __name__ == "__main__":
    raise SystemExit(main())
