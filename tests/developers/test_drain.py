"""One job per endpoint drains its due deliveries in a bounded batch under one lock: order, a failure
mid-batch, a crash mid-batch, the batch's size and time caps, connections reused within a job."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from tests.developers.helpers import endpoint_for, set_setting
from tests.factories import make_org, make_user
from webapp.core import outbound
from webapp.developers import services
from webapp.developers.jobs import deliver_endpoint
from webapp.developers.models import WebhookAttempt, WebhookDelivery
from webapp.extensions import db


def _org():
    owner = make_user("owner@drain.example")
    return make_org(owner, "Drain Co", "drain-co"), owner


def _events(org, n):
    events = [services.record_event(org.id, "invoice.paid", {"object": "invoice", "id": i}) for i in range(n)]
    db.session.commit()
    return events


def _deliveries(endpoint):
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id).order_by(WebhookDelivery.id)
        )
    )


def test_one_job_delivers_a_batch_in_creation_order(ctx, receiver):
    org, owner = _org()
    endpoint, _ = endpoint_for(org, owner, receiver.url, ordered=True)
    events = _events(org, 6)
    assert deliver_endpoint(endpoint.id) == "idle"  # one run sent all six, then found nothing more
    assert [e["id"] for e in receiver.events()] == [e.public_id for e in events]
    assert [(d.status, d.attempts) for d in _deliveries(endpoint)] == [("SUCCEEDED", 1)] * 6
    assert db.session.scalar(select(db.func.count()).select_from(WebhookAttempt)) == 6
    assert deliver_endpoint(endpoint.id) == "idle" and len(receiver.requests) == 6  # nothing twice


def test_a_full_batch_queues_the_next_job(ctx, receiver, run_jobs, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 3)
    org, owner = _org()
    endpoint, _ = endpoint_for(org, owner, receiver.url, ordered=True)
    events = _events(org, 5)
    assert deliver_endpoint(endpoint.id) == "sent"  # three sent, more due: the next job is queued
    assert len(receiver.requests) == 3
    run_jobs()
    assert [e["id"] for e in receiver.events()] == [e.public_id for e in events]
    assert all(d.status == "SUCCEEDED" and d.attempts == 1 for d in _deliveries(endpoint))


def test_a_failure_mid_batch_schedules_the_retry_and_holds_back_the_ordered_endpoint(ctx, receiver):
    receiver.answers = [200, 500]
    org, owner = _org()
    endpoint, _ = endpoint_for(org, owner, receiver.url, ordered=True)
    events = _events(org, 4)
    assert deliver_endpoint(endpoint.id) == "waiting"  # the second failed: its retry is due later
    assert [e["id"] for e in receiver.events(None)] == [e.public_id for e in events[:2]]
    first, second, *rest = _deliveries(endpoint)
    assert first.status == "SUCCEEDED"
    assert second.status == "PENDING" and second.attempts == 1 and second.next_attempt_at > second.last_attempt_at
    assert [(d.status, d.attempts) for d in rest] == [("PENDING", 0)] * 2  # not sent before the second


def test_a_failure_mid_batch_does_not_stop_an_unordered_endpoint(ctx, receiver):
    receiver.answers = [200, 500]
    org, owner = _org()
    endpoint, _ = endpoint_for(org, owner, receiver.url, ordered=False)
    events = _events(org, 4)
    deliver_endpoint(endpoint.id)
    assert [e["id"] for e in receiver.events()] == [events[i].public_id for i in (0, 2, 3)]
    assert [d.status for d in _deliveries(endpoint)] == ["SUCCEEDED", "PENDING", "SUCCEEDED", "SUCCEEDED"]


def test_a_crash_mid_batch_leaves_no_duplicate_on_the_next_run(ctx, receiver, monkeypatch):
    org, owner = _org()
    endpoint, _ = endpoint_for(org, owner, receiver.url, ordered=True)
    events = _events(org, 5)
    real_fetch, calls = outbound.fetch, []

    def dying_fetch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the worker died")
        return real_fetch(*args, **kwargs)

    monkeypatch.setattr(outbound, "fetch", dying_fetch)
    with pytest.raises(RuntimeError):
        deliver_endpoint(endpoint.id)
    db.session.rollback()
    assert len(receiver.requests) == 2
    assert [d.status for d in _deliveries(endpoint)] == ["SUCCEEDED"] * 2 + ["PENDING"] * 3  # committed as they went
    monkeypatch.setattr(outbound, "fetch", real_fetch)
    assert deliver_endpoint(endpoint.id) == "idle"  # the crashed run's lock is gone: not "busy"
    assert [e["id"] for e in receiver.events()] == [e.public_id for e in events]  # each once, in order
    assert [(d.status, d.attempts) for d in _deliveries(endpoint)] == [("SUCCEEDED", 1)] * 5


def test_a_slow_endpoint_does_not_hold_the_batch_past_its_time(ctx, receiver, monkeypatch):
    set_setting("webhooks.timeout_seconds", 1)
    monkeypatch.setattr(services, "BATCH_SECONDS", 2.5)
    receiver.default, receiver.sleep_for = "timeout", 3.0  # never answers in time
    org, owner = _org()
    endpoint, _ = endpoint_for(org, owner, receiver.url, ordered=False)
    _events(org, 6)
    started = time.monotonic()
    assert deliver_endpoint(endpoint.id) == "sent"  # stopped with more due: the next job is queued
    elapsed = time.monotonic() - started
    # Six 1-second timeouts would take 6 s: a request starts only while its timeout fits in the
    # 2.5-second batch (two, or one on a busy machine), and the batch never runs past it by more than slack.
    assert elapsed < 4.0
    attempts = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert 1 <= len(attempts) <= 2 and all(not a.succeeded and "1 s" in a.error for a in attempts)
    assert sorted(d.attempts for d in _deliveries(endpoint)) == [0] * (6 - len(attempts)) + [1] * len(attempts)


def test_connections_are_reused_within_a_scope_and_only_there(ctx, receiver):
    peers = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            peers.append(self.client_address[1])
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        with outbound.reuse_connections():
            for n in range(3):
                assert outbound.fetch("POST", url, content=json.dumps({"n": n}).encode()).status_code == 204
        assert len(set(peers)) == 1  # three requests, one connection
        peers.clear()
        for _ in range(2):
            outbound.fetch("POST", url, content=b"{}")
        assert len(set(peers)) == 2  # outside a scope each request has its own
    finally:
        server.shutdown()
        server.server_close()
    assert outbound.ssl_context() is outbound.ssl_context()  # one TLS context per process
