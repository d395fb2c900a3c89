"""Locust users of bench/soak.py (not run alone): the traffic of a working day, from loopback only.

SOAK_PLAN (a JSON file written by soak.py) names the accounts, the API key, the workflow webhook and
the signed Paynow callbacks; SOAK_RESULT is where the status codes seen per kind are written.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

from locust import HttpUser, between, events, task

PLAN = json.loads(Path(os.environ["SOAK_PLAN"]).read_text())
STATUSES: dict[str, Counter] = defaultdict(Counter)


def _now() -> str:
    return datetime.now(UTC).isoformat()


@events.request.add_listener
def _count(request_type, name, response_time, response_length, response=None, exception=None, **kw):
    kind = name.split(" ", 1)[0]
    STATUSES[kind][str(getattr(response, "status_code", 0) or "error")] += 1


@events.test_stop.add_listener
def _write(environment, **kw):
    with open(os.environ["SOAK_RESULT"], "w") as fh:
        json.dump({k: dict(v) for k, v in STATUSES.items()}, fh)


class _SignedIn(HttpUser):
    """A browser tab of one of the accounts soak.py signed in (tabs of one person share a session),
    handed out in turn so every account gets its share."""

    abstract = True
    accounts: list = []
    _next = itertools.count()

    def on_start(self):
        self.account = self.accounts[next(self._next) % len(self.accounts)]
        self.client.cookies.update(PLAN["cookies"][self.account["email"]])


class Customer(_SignedIn):
    """An owner, admin, member or billing person moving through their organization's pages."""

    weight = 30
    wait_time = between(1, 4)
    accounts = PLAN["customers"]

    @task(4)
    def dashboard(self):
        self.client.get(f"/o/{self.account['slug']}/", name="page dashboard")

    @task(2)
    def billing(self):
        if self.account["role"] in ("OWNER", "ADMIN", "BILLING"):  # what each role's navigation offers
            self.client.get(f"/o/{self.account['slug']}/billing/", name="page billing")

    @task(2)
    def support(self):
        if self.account["role"] != "BILLING":
            self.client.get(f"/o/{self.account['slug']}/support/", name="page support")

    @task(1)
    def studio(self):
        if self.account["role"] != "BILLING":
            self.client.get(f"/o/{self.account['slug']}/studio/", name="page studio")

    @task(2)
    def notifications(self):
        self.client.get("/notifications/", name="page notifications")

    @task(1)
    def bell(self):
        self.client.get("/notifications/count", name="fragment bell")


class Staff(_SignedIn):
    """Staff in the console."""

    weight = 10
    wait_time = between(1, 4)
    accounts = PLAN["staff"]

    @task(3)
    def business(self):
        self.client.get("/admin/", name="page admin-business")

    @task(2)
    def invoices(self):
        self.client.get("/admin/invoices", name="page admin-invoices")

    @task(2)
    def orgs(self):
        self.client.get("/admin/orgs", name="page admin-orgs")

    @task(1)
    def audit(self):
        self.client.get("/admin/audit", name="page admin-audit")

    @task(1)
    def jobs(self):
        self.client.get("/admin/jobs", name="page admin-jobs")


class StreamHolder(_SignedIn):
    """A tab with the bell open: a notification stream held for about a minute, then reopened."""

    weight = 25
    wait_time = between(0.5, 2)
    accounts = PLAN["customers"] + PLAN["staff"]

    @task
    def hold(self):
        until = time.monotonic() + random.uniform(40, 80)
        with self.client.get(
            "/notifications/stream", name="stream open", stream=True, catch_response=True, timeout=(10, 60)
        ) as response:
            if response.status_code != 200:
                response.failure(f"stream answered {response.status_code}")
                return
            response.success()
            try:
                for line in response.iter_lines():
                    if line.startswith(b"event: closed") or time.monotonic() > until:
                        break
            except Exception:  # the server closed it (a restart, the cap): the next task reopens
                pass


class ApiClient(HttpUser):
    """A customer's system sending metered usage with its API key."""

    weight = 20
    wait_time = between(0.2, 1)

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {PLAN['api_key']}"
        self.n = 0

    @task(5)
    def single(self):
        self.n += 1
        event = {"event_id": f"{id(self)}-{self.n}-{time.time()}", "event_type": "api.request", "timestamp": _now()}
        self.client.post("/api/v1/usage-events", json=event, name="api usage-event")

    @task(1)
    def batch(self):
        stamp = time.time()
        batch = [
            {"event_id": f"{id(self)}-b{stamp}-{i}", "event_type": "api.request", "timestamp": _now()}
            for i in range(50)
        ]
        self.client.post("/api/v1/usage-events", json={"events": batch}, name="api usage-batch")


class PaynowCallbacks(HttpUser):
    """Paynow posting result-URL callbacks (valid, hashed; repeats included, as Paynow retries)."""

    weight = 10
    wait_time = between(1, 3)

    @task
    def callback(self):
        body = random.choice(PLAN["callbacks"])
        self.client.post(
            "/webhooks/paynow",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            name="callback paynow",
        )


class WebhookSender(HttpUser):
    """A customer's system calling a workflow's inbound webhook."""

    weight = 5
    wait_time = between(2, 6)

    @task
    def webhook(self):
        self.client.post(PLAN["webhook"], json={"order": random.randint(1, 10_000)}, name="webhook workflow")
