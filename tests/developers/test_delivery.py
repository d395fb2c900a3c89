"""Signed deliveries to a real loopback receiver: signature, order, retries with backoff, timeouts,
one request in flight per endpoint, rotation overlap, disabling after three days."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import time_machine
from sqlalchemy import select

from tests.developers.helpers import endpoint_for, set_setting
from tests.developers.receiver import verify
from tests.factories import add_member, make_org, make_user
from webapp.core.models import utcnow
from webapp.developers import services
from webapp.developers.jobs import deliver_endpoint
from webapp.developers.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webapp.extensions import db


def _org():
    owner = make_user("owner@hooks.example")
    return make_org(owner, "Hooks Co", "hooks-co"), owner


def _event(org, n=0, type_="invoice.paid"):
    event = services.record_event(org.id, type_, {"object": "invoice", "id": n})
    db.session.commit()
    return event


def _deliveries(endpoint):
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id).order_by(WebhookDelivery.id)
        )
    )


def test_each_delivery_is_signed_as_published_and_sent_once(ctx, receiver, run_jobs):
    org, owner = _org()
    endpoint, secret = endpoint_for(org, owner, receiver.url)
    assert secret.startswith("whsec_") and len(secret) > 40
    events = [_event(org, n) for n in range(3)]
    run_jobs()
    run_jobs()  # a second run finds nothing to send: no duplicates
    got = receiver.events()
    assert [e["id"] for e in got] == [e.public_id for e in events]
    for request in receiver.requests:
        header = request["headers"]["Tessera-Signature"]
        assert header.count("v1=") == 1
        assert verify(header, request["body"], secret)
        assert not verify(header, request["body"] + b" ", secret)  # the body is signed
        assert not verify(header, request["body"], secret + "x")  # with this secret only
        assert request["headers"]["Content-Type"] == "application/json"
    first = got[0]
    assert first["type"] == "invoice.paid" and first["object"] == "event"
    assert first["api_version"] == "2026-12-03" and first["data"]["object"] == {"object": "invoice", "id": 0}
    assert all(d.status == "SUCCEEDED" and d.attempts == 1 for d in _deliveries(endpoint))
    attempt = db.session.scalars(select(WebhookAttempt)).first()
    assert attempt.response_status == 200 and '"received": true' in attempt.response_excerpt
    assert json.loads(attempt.request_body)["id"] == events[0].public_id and attempt.duration_ms >= 0


def test_a_hostile_answer_is_recorded_not_a_crash(ctx, receiver, run_jobs):
    # NUL and bytes that are not UTF-8 in the endpoint's answer: PostgreSQL text refuses NUL, so the
    # excerpt keeps a replacement character and the delivery is recorded as sent.
    receiver.reply = b'ok\x00\xed\xa0\x80 {"a": "\\u0000"}'
    org, owner = _org()
    endpoint, _ = endpoint_for(org, owner, receiver.url)
    _event(org, 1)
    run_jobs()
    (delivery,) = _deliveries(endpoint)
    assert delivery.status == "SUCCEEDED" and delivery.attempts == 1
    attempt = db.session.scalars(select(WebhookAttempt)).one()
    assert attempt.response_status == 200 and "\x00" not in attempt.response_excerpt
    assert attempt.response_excerpt.startswith("ok\ufffd")


def test_an_endpoint_gets_only_the_types_it_chose_and_other_orgs_nothing(ctx, receiver, run_jobs):
    org, owner = _org()
    other = make_org(make_user("other@hooks.example"), "Other Co", "other-co")
    endpoint_for(org, owner, receiver.url, types=["invoice.paid"])
    _event(org, 1, "invoice.overdue")
    _event(other, 2, "invoice.paid")
    paid = _event(org, 3, "invoice.paid")
    run_jobs()
    assert [e["id"] for e in receiver.events()] == [paid.public_id]


def test_redelivery_after_a_500_and_after_a_timeout_with_backoff(ctx, receiver, run_jobs):
    set_setting("webhooks.timeout_seconds", 1)
    receiver.sleep_for = 2.5
    receiver.answers = [500, "timeout"]
    org, owner = _org()
    endpoint, secret = endpoint_for(org, owner, receiver.url)
    event = _event(org)
    run_jobs()
    (delivery,) = _deliveries(endpoint)
    assert delivery.status == "PENDING" and delivery.attempts == 1
    first_wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert timedelta(seconds=29) < first_wait <= timedelta(seconds=31)
    assert deliver_endpoint(endpoint.id) == "waiting"  # not due yet: nothing sent
    assert len(receiver.requests) == 1

    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        deliver_endpoint(endpoint.id)
    (delivery,) = _deliveries(endpoint)
    assert delivery.status == "PENDING" and delivery.attempts == 2
    assert timedelta(seconds=59) < delivery.next_attempt_at - delivery.last_attempt_at <= timedelta(seconds=61)
    attempts = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert attempts[0].response_status == 500 and not attempts[0].succeeded
    assert attempts[1].response_status is None and "1 s" in attempts[1].error

    with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
        deliver_endpoint(endpoint.id)
        deliver_endpoint(endpoint.id)
    time.sleep(1.6)  # the receiver finishes the request it answered too late
    (delivery,) = _deliveries(endpoint)
    assert delivery.status == "SUCCEEDED" and delivery.attempts == 3
    assert [r["answered"] for r in receiver.requests] == [500, 200, 200]  # the late 200 of the timed-out attempt
    assert {json.loads(r["body"])["id"] for r in receiver.requests} == {event.public_id}
    assert all(verify(r["headers"]["Tessera-Signature"], r["body"], secret, tolerance=10**6) for r in receiver.requests)
    assert db.session.get(WebhookEndpoint, endpoint.id).failing_since is None


def test_ordered_endpoint_holds_back_later_events_until_the_first_succeeds(ctx, receiver, run_jobs):
    receiver.answers = [500]
    org, owner = _org()
    ordered, _ = endpoint_for(org, owner, receiver.url, ordered=True)
    events = [_event(org, n) for n in range(4)]
    run_jobs()
    assert len(receiver.requests) == 1  # the head failed: the others wait behind it
    assert [d.status for d in _deliveries(ordered)] == ["PENDING"] * 4
    head = _deliveries(ordered)[0]
    with time_machine.travel(head.next_attempt_at + timedelta(seconds=1)):
        deliver_endpoint(ordered.id)
    assert [e["id"] for e in receiver.events()] == [e.public_id for e in events]
    assert [d.status for d in _deliveries(ordered)] == ["SUCCEEDED"] * 4


def test_an_unordered_endpoint_sends_the_others_while_one_is_retried(ctx, receiver, run_jobs):
    receiver.answers = [500]
    org, owner = _org()
    endpoint, _ = endpoint_for(org, owner, receiver.url, ordered=False)
    events = [_event(org, n) for n in range(3)]
    run_jobs()
    assert [e["id"] for e in receiver.events()] == [e.public_id for e in events[1:]]
    assert [d.status for d in _deliveries(endpoint)] == ["PENDING", "SUCCEEDED", "SUCCEEDED"]


def test_never_more_than_one_request_in_flight_per_endpoint(app, receiver):
    receiver.delay = 0.3
    with app.app_context():
        org, owner = _org()
        endpoint, _ = endpoint_for(org, owner, receiver.url)
        other, _ = endpoint_for(org, owner, receiver.url.replace("/hooks", "/second"))
        for n in range(4):
            _event(org, n)
        ids = (endpoint.id, other.id)
        db.session.remove()

    outcomes = []

    def worker(endpoint_id):
        with app.app_context():
            outcomes.append(deliver_endpoint(endpoint_id))
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(ids[n % 2],)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    by_path = {}
    for r in receiver.requests:
        by_path.setdefault(r["path"], []).append(json.loads(r["body"])["id"])
    assert sorted(len(v) for v in by_path.values()) == [4, 4]  # every delivery once, none twice
    assert all(len(set(v)) == 4 for v in by_path.values())
    assert "busy" in outcomes  # the other workers found the endpoint in flight and left it
    assert receiver.max_in_flight <= 2  # two endpoints may run side by side, never one endpoint twice


def test_retry_schedule_doubles_then_gives_up_and_disables_after_three_days(ctx, receiver, run_jobs, mailbox):
    receiver.default = 503
    org, owner = _org()
    admin, member = make_user("admin@hooks.example"), make_user("member@hooks.example")
    add_member(org, admin, "ADMIN")
    add_member(org, member, "MEMBER")
    endpoint, _ = endpoint_for(org, owner, receiver.url)
    _event(org)
    start = utcnow()
    run_jobs()
    waits = []
    for _ in range(40):
        (delivery,) = _deliveries(endpoint)
        if delivery.status != "PENDING":
            break
        waits.append(round((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()))
        with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1), tick=False):
            deliver_endpoint(endpoint.id)
    expected = [min(30 * 2**n, 43_200) for n in range(len(waits) - 1)]
    assert [abs(w - e) <= 2 for w, e in zip(waits[:-1], expected, strict=True)] == [True] * len(expected)
    assert 0 < waits[-1] <= 43_200 and 13 <= len(waits) <= 20  # the last wait ends at the window's end
    (delivery,) = _deliveries(endpoint)
    assert delivery.status == "FAILED" and delivery.attempts == len(waits) + 1
    assert timedelta(hours=72) <= delivery.last_attempt_at - start <= timedelta(hours=72, minutes=1)
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert not endpoint.enabled and "72 hours" in endpoint.disabled_reason
    run_jobs()
    told = sorted(m["To"] for m in mailbox.messages if "Webhook endpoint disabled" in m["Subject"])
    assert told == ["admin@hooks.example", "owner@hooks.example"]
    # disabled: a new event makes no delivery
    _event(org, 9)
    assert len(_deliveries(endpoint)) == 1


def test_rotation_signs_with_both_secrets_for_24_hours(ctx, receiver, run_jobs):
    org, owner = _org()
    endpoint, old = endpoint_for(org, owner, receiver.url)
    new = services.rotate_secret(endpoint, owner)
    db.session.commit()
    assert new != old
    _event(org, 1)
    run_jobs()
    request = receiver.requests[-1]
    header = request["headers"]["Tessera-Signature"]
    assert header.count("v1=") == 2
    assert verify(header, request["body"], old) and verify(header, request["body"], new)
    with time_machine.travel(utcnow() + timedelta(hours=24, seconds=5)):
        second = _event(org, 2)
        assert deliver_endpoint(endpoint.id) == "idle"
        assert len(receiver.requests) == 2
        request = receiver.requests[-1]
        assert json.loads(request["body"])["id"] == second.public_id
        header = request["headers"]["Tessera-Signature"]
        assert header.count("v1=") == 1
        assert verify(header, request["body"], new) and not verify(header, request["body"], old)
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id).previous_secret_ciphertext is None


def test_an_internal_address_is_refused_without_a_request(app, ctx, run_jobs):
    """Registration refuses an internal address; one registered while the allow-list named it (or a
    name that later resolves inward) is still refused at delivery, with nothing sent."""
    from flask import g

    from tests.outbound_helpers import SilentListener, allow_internal_hosts

    listener = SilentListener()
    try:
        org, owner = _org()
        allow_internal_hosts(app, "127.0.0.1")
        g.pop("tessera_settings", None)
        endpoint, _ = endpoint_for(org, owner, f"http://127.0.0.1:{listener.port}/hooks")
        allow_internal_hosts(app)
        g.pop("tessera_settings", None)
        _event(org)
        run_jobs()
        (delivery,) = _deliveries(endpoint)
        attempt = db.session.scalars(select(WebhookAttempt)).one()
        assert delivery.status == "PENDING" and attempt.response_status is None and "not reachable" in attempt.error
        assert listener.connections == 0
    finally:
        listener.close()


def test_old_events_are_pruned_by_the_retention_setting(ctx):
    org, _ = _org()
    with time_machine.travel(utcnow() - timedelta(days=31)):
        old = _event(org, 1)
    recent = _event(org, 2)
    old_id, recent_id = old.id, recent.id
    from webapp.developers.jobs import prune_old_events

    assert prune_old_events() == 1
    db.session.expire_all()
    assert db.session.get(Event, old_id) is None and db.session.get(Event, recent_id) is not None
    set_setting("webhooks.events_retention_days", 1)
    with time_machine.travel(utcnow() + timedelta(days=2)):
        assert prune_old_events() >= 2  # the recent one, and the organizations' subscription.created
    db.session.expire_all()
    assert db.session.get(Event, recent_id) is None and not db.session.scalars(select(Event)).all()
