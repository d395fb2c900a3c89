"""Soak benchmark (not a timed test): mixed traffic for a bounded time against the README's run shape.

Starts, on loopback only, against fresh databases: the provider sandboxes (their own process and
PostgreSQL database), the web process (gunicorn, 2 uvicorn workers x 4 page threads, streams on the
event loops), one RQ worker with its scheduler, on PostgreSQL and Redis; loads the demo data, an API
key, a workflow with a webhook trigger and signed Paynow callbacks for pending payments; then runs
Locust headless with USERS simulated users (bench/_soak_locustfile.py: customers and staff browsing
pages, API keys sending usage events, notification streams held open, Paynow callbacks, a workflow
webhook) for DURATION. Reports requests, 5xx, p50/p95/p99 per kind (goal p95 < 300 ms for pages, 0
5xx) and the run rows left RUNNING once the worker has had a minute to finish (goal 0).

    .venv/bin/python bench/soak.py [--duration 5m] [--users 100] [--pg postgresql://postgres@127.0.0.1:5432]
        [--database tessera_bench_soak] [--redis redis://127.0.0.1:6379/4]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, start_sandboxes, start_web, start_worker  # noqa: E402

SETUP = r"""
import json, sys
from sqlalchemy import select
from webapp import create_app
from webapp.extensions import db
app = create_app()
out = {}
with app.app_context():
    from webapp.api import services as keys
    from webapp.auth.models import User
    from webapp.orgs.models import Membership, Organization
    from webapp.subscriptions.services import set_enterprise_terms
    from webapp.workflows import services as workflows
    from tests.billing.helpers import make_invoice

    org = db.session.scalar(select(Organization).where(Organization.slug == "harare-retail"))
    owner = db.session.scalar(select(User).where(User.email == "owner@harare-retail.example"))
    set_enterprise_terms(org, owner, 0, 0, "MONTHLY", {})
    key, plain = keys.create_key(org, owner, "soak", ["usage:write", "usage:read"], 1_000_000, None)
    definition = {
        "trigger": {"type": "webhook"},
        "steps": [{"type": "notify_members", "name": "Tell the owners",
                   "config": {"roles": ["OWNER"], "title": "Order {{ trigger.order }} received",
                              "message": "", "link": ""}}],
    }
    flow = workflows.create_from_definition(org, owner, "Soak webhook", "", definition)
    workflows.set_enabled(flow, org, owner, True)
    db.session.commit()
    out["api_key"] = plain
    out["webhook"] = f"/webhooks/workflows/{flow.id}/{workflows.webhook_secret(flow)}"

    invoices = [make_invoice(org, lines=((1, 2_500),)) for _ in range(int(sys.argv[1]))]
    db.session.commit()
    out["tokens"] = [i.payment_token for i in invoices]
    out["invoice_ids"] = [i.id for i in invoices]
    customers = []
    for m in db.session.scalars(select(Membership).join(Organization).where(Organization.slug.in_(
            ["harare-retail", "bulawayo-foods", "kyoto-creators"]))):
        if m.user.email.endswith(".example") and not m.user.is_staff:
            customers.append({"email": m.user.email, "slug": m.organization.slug, "role": m.role})
    out["customers"] = customers
    out["staff"] = [{"email": "staff@tessera.example"}]
print(json.dumps(out))
"""


def recreate(pg: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{pg}/{name}"


def pending_payments(url: str, database_url: str, tokens: list[str], invoice_ids: list[int]) -> list[tuple[str, str]]:
    """Payers start an EcoCash payment on each invoice's payment page (the number waits for a PIN)."""
    import re

    import psycopg

    for token in tokens:
        with httpx.Client(base_url=url, timeout=30) as client:
            page = client.get(f"/pay/{token}").text
            csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            answer = client.post(
                f"/pay/{token}/express", data={"method": "PAYNOW_ECOCASH", "phone": "0779999999", "csrf_token": csrf}
            )
            assert answer.status_code == 303, answer.text[:300]
    with psycopg.connect(database_url) as conn:  # by invoice id: the link is nonce + MAC, the row keeps the nonce
        return conn.execute(
            "SELECT p.external_reference, p.poll_url FROM billing_payments p "
            "WHERE p.invoice_id = ANY(%s) AND p.poll_url IS NOT NULL",
            (invoice_ids,),
        ).fetchall()


def sign_in(url: str, emails: list[str]) -> dict[str, dict]:
    """One session per account, through the login form (the Locust tabs of an account share it)."""
    from tests.servers import login

    cookies = {}
    for email in emails:
        with httpx.Client(base_url=url, timeout=60) as client:
            login(client, email, "tessera-demo-1")
            cookies[email] = dict(client.cookies)
    return cookies


def signed_callbacks(pending: list, sandbox_db: str, key: str) -> list[str]:
    """Mark the sandbox's transactions Paid (the payers approved on their phones) and sign the
    result-URL bodies Paynow would post for them."""
    from urllib.parse import urlencode

    import psycopg

    from webapp.integrations.providers.paynow import make_hash

    bodies = []
    with psycopg.connect(sandbox_db, autocommit=True) as conn:
        for reference, poll_url in pending:
            token = poll_url.rsplit("/", 1)[1]
            row = conn.execute(
                "UPDATE sandbox_paynow_transactions SET status = 'Paid' WHERE token = %s "
                "RETURNING paynow_reference, amount",
                (token,),
            ).fetchone()
            fields = [
                ("reference", reference),
                ("paynowreference", row[0]),
                ("amount", row[1]),
                ("status", "Paid"),
                ("pollurl", poll_url),
            ]
            bodies.append(urlencode([*fields, ("hash", make_hash(fields, key))]))
    return bodies


def running_rows(database_url: str) -> dict[str, int]:
    """Rows whose status is RUNNING, per table, across every table that has a status column."""
    import psycopg

    found = {}
    with psycopg.connect(database_url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'status'"
        ).fetchall()
        for (table,) in tables:
            count = conn.execute(f"SELECT count(*) FROM \"{table}\" WHERE status::text = 'RUNNING'").fetchone()[0]
            if count:
                found[table] = count
    return found


def seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", default="5m", help="how long the traffic runs: 300s, 5m, 1m …")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--callbacks", type=int, default=40, help="pending Paynow payments the callbacks settle")
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="tessera_bench_soak")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/4"))
    args = parser.parse_args()
    duration = seconds(args.duration)

    tmp = Path(tempfile.mkdtemp(prefix="tessera-soak-"))
    database_url = recreate(args.pg, args.database)
    sandbox_db = recreate(args.pg, args.database + "_sandboxes")
    import redis

    redis.Redis.from_url(args.redis).flushdb()
    web_port, sandbox_port = free_port(), free_port()
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis,
        "INSTANCE_PATH": str(tmp / "instance"),
        "SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}",
        "BASE_URL": f"http://127.0.0.1:{web_port}",
        "LOGIN_LIMIT_PER_IP": "100000/minute",
        "LOGIN_LIMIT_PER_ACCOUNT": "100000/minute",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(free_port()),
    }
    child = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    processes = []
    try:
        mail = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                f"127.0.0.1:{env['MAIL_PORT']}",
                "-c",
                "aiosmtpd.handlers.Sink",
            ],
            cwd=ROOT,
            env=child,
        )
        sandboxes, sandbox_url = start_sandboxes(
            tmp, database_url=sandbox_db, instance_path=tmp / "instance", port=sandbox_port
        )
        processes.append(sandboxes)
        print("migrating and loading the demo data …", flush=True)
        for argv in (["db", "upgrade"], ["seed", "demo"]):
            subprocess.run(
                [sys.executable, "-m", "flask", "--app", "wsgi.py", *argv],
                cwd=ROOT,
                env=child,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        web, url = start_web(tmp, port=web_port, **env)
        processes.append(web)
        processes.append(start_worker(tmp, **env))
        out = subprocess.run(
            [sys.executable, "-c", SETUP, str(args.callbacks)],
            cwd=ROOT,
            env=child,
            check=True,
            capture_output=True,
            text=True,
        )
        plan = json.loads(out.stdout.strip().splitlines()[-1])
        key = os.environ.get("PAYNOW_INTEGRATION_KEY", "tessera-paynow-sandbox-key")
        pending = pending_payments(url, database_url, plan.pop("tokens"), plan.pop("invoice_ids"))
        plan["callbacks"] = signed_callbacks(pending, sandbox_db, key)
        plan["cookies"] = sign_in(url, [a["email"] for a in plan["customers"] + plan["staff"]])
        (tmp / "plan.json").write_text(json.dumps(plan))
        print(
            f"soak: {args.users} users for {duration} s against {url} "
            f"({len(plan['customers'])} customer accounts, {len(plan['callbacks'])} Paynow callbacks)",
            flush=True,
        )
        locust = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "bench" / "_soak_locustfile.py"),
            "--headless",
            "-u",
            str(args.users),
            "-r",
            "10",
            "-t",
            f"{duration}s",
            "--host",
            url,
            "--csv",
            str(tmp / "soak"),
            "--only-summary",
            "--reset-stats",
            "--stop-timeout",
            "90",
            "--loglevel",
            "WARNING",
        ]
        subprocess.run(
            locust,
            cwd=ROOT,
            env={**child, "SOAK_PLAN": str(tmp / "plan.json"), "SOAK_RESULT": str(tmp / "codes.json")},
            stdout=subprocess.DEVNULL,
            timeout=duration + 300,
        )
        time.sleep(60)  # the worker finishes what the traffic queued
        left = running_rows(database_url)
        ready = httpx.get(f"{url}/readyz", timeout=10).json()
    finally:
        for process in reversed(processes):
            process.stop()
        if "mail" in locals():
            mail.terminate()
            mail.wait(10)
    report(tmp, left, ready, duration, args.users)
    print("(latencies from the end of the ramp-up, --reset-stats; the accounts signed in once beforehand)")


def report(tmp: Path, left: dict, ready: dict, duration: int, users: int) -> None:
    codes = json.loads((tmp / "codes.json").read_text())
    rows = list(csv.DictReader((tmp / "soak_stats.csv").open()))
    print()
    print(f"soak: {users} users, {duration} s on the README's run shape")
    print(f"{'kind':<26}{'requests':>9}{'5xx':>6}{'other err':>10}{'p50':>8}{'p95':>8}{'p99':>8}   goal")
    total = fivexx = 0
    for row in rows:
        name = row["Name"]
        if name == "Aggregated":
            continue
        kind = name.split(" ", 1)[0]
        seen = codes.get(kind, {})
        errors5 = sum(v for k, v in seen.items() if k.startswith("5"))
        other = int(row["Failure Count"]) - errors5
        total += int(row["Request Count"])
        fivexx += errors5
        goal = "p95 < 300 ms" if kind == "page" else ""
        print(
            f"{name:<26}{row['Request Count']:>9}{errors5:>6}{other:>10}"
            f"{row['50%']:>6}ms{row['95%']:>6}ms{row['99%']:>6}ms   {goal}"
        )
    print(f"total requests {total}; 5xx {fivexx} (goal 0)")
    print(f"run rows left RUNNING a minute after the traffic: {sum(left.values())} {left or ''} (goal 0)")
    print(f"/readyz at the end: {ready}")
    print(f"(raw: {tmp})")


if __name__ == "__main__":
    main()
