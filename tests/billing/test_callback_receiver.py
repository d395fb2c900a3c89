"""Paynow's result-URL callback on the README's run shape is answered on the event loop
(webapp/billing/receiver.py): the same answers as the Flask route, the payment applied once."""

from __future__ import annotations

import asyncio
import threading
import time
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from tests.billing.helpers import make_invoice, org_with_owner
from tests.conftest import DATABASE_URL, REDIS_UP, TEST_REDIS_URL
from webapp.audit.models import AuditEntry
from webapp.billing.models import Invoice, Payment
from webapp.billing.payment_models import ProviderEvent
from webapp.extensions import db
from webapp.integrations.providers.paynow import make_hash
from webapp.integrations.sandboxes.paynow import SandboxPaynowTransaction
from webapp.jobs import outbox, runner
from webapp.jobs.models import JobOutbox

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not REDIS_UP, reason="the receiver serves the run shape: RQ jobs on Redis"),
]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _paid_express_payment(app, sandbox_db, *, poll_url: str | None = None):
    """An EcoCash payment the customer approved on the phone; returns (invoice id, payment id, fields)."""
    from tests.conftest import Browserish

    org, _ = org_with_owner()
    invoice = make_invoice(org, lines=((1, 10_000),))
    browser = Browserish(app.test_client())
    response = browser.post(
        f"/pay/{invoice.payment_token}/express", {"method": "PAYNOW_ECOCASH", "phone": "0779999999"}
    )
    assert response.status_code == 303
    payment = db.session.scalar(select(Payment).where(Payment.invoice_id == invoice.id))
    txn = sandbox_db.scalar(select(SandboxPaynowTransaction).order_by(SandboxPaynowTransaction.id.desc()))
    txn.status = "Paid"
    sandbox_db.commit()
    fields = [
        ("reference", payment.external_reference),
        ("paynowreference", txn.paynow_reference),
        ("amount", txn.amount),
        ("status", "Paid"),
        ("pollurl", poll_url or payment.poll_url),
    ]
    return invoice.id, payment.id, fields


def _signed(app, fields) -> str:
    return urlencode([*fields, ("hash", make_hash(fields, app.config["PAYNOW_INTEGRATION_KEY"]))])


def _until(predicate, timeout: float, what: str, process=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}" + (f"\n{process.log()}" if process else "")
        time.sleep(0.1)


def test_a_burst_of_identical_callbacks_is_one_event_and_one_payment(app, web_server, sandbox_db, run_jobs):
    with app.app_context():
        invoice_id, payment_id, fields = _paid_express_payment(app, sandbox_db)
        body = _signed(app, fields)
        db.session.remove()
    barrier = threading.Barrier(40)
    codes: list[int] = []

    def send():
        barrier.wait()
        codes.append(httpx.post(f"{web_server}/webhooks/paynow", content=body, headers=FORM, timeout=60).status_code)

    threads = [threading.Thread(target=send) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * 40
    with app.app_context():
        assert outbox.relay() == 1  # what the worker's relay does when the receiver's NOTIFY wakes it
    run_jobs()
    with app.app_context():
        events = db.session.scalars(select(ProviderEvent)).all()
        assert [(e.status, e.payment_id) for e in events] == [("PROCESSED", payment_id)]
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.status == "PAID" and invoice.amount_paid == 11_500
        received = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "payment.received")
        assert db.session.scalar(received) == 1
        handling = select(func.count()).where(JobOutbox.func.endswith(".handle_provider_event"))
        assert db.session.scalar(handling) == 1  # one job for forty callbacks


def test_the_receivers_notify_wakes_a_real_workers_relay(app, web_server, sandbox_server, sandbox_db, tmp_path):
    """The web process never talks to RQ for a callback: its NOTIFY wakes the worker's relay, which
    passes only every two minutes otherwise, and the worker applies the payment within seconds."""
    from tests.servers import start_worker

    with app.app_context():
        invoice_id, _, fields = _paid_express_payment(app, sandbox_db)
        body = _signed(app, fields)
        db.session.remove()
    env = {"DATABASE_URL": DATABASE_URL, "REDIS_URL": TEST_REDIS_URL, "JOBS_BACKEND": "rq"}
    worker = start_worker(tmp_path, SANDBOX_URL=sandbox_server, JOBS_OUTBOX_RELAY_SECONDS="120", **env)
    try:

        def registered() -> bool:
            from rq import Worker

            with app.app_context():
                return Worker.count(queue=runner.get_queue("billing")) > 0

        # The relay makes its start-up pass before the RQ worker registers: wait until that is behind it.
        _until(registered, 60, "the worker to start", worker)
        time.sleep(1)
        assert httpx.post(f"{web_server}/webhooks/paynow", content=body, headers=FORM, timeout=30).status_code == 200

        def paid() -> bool:
            with app.app_context():
                return db.session.get(Invoice, invoice_id).status == "PAID"

        def handed_over() -> bool:
            with app.app_context():
                dispatched = select(JobOutbox.dispatched_at).where(JobOutbox.func.endswith(".handle_provider_event"))
                return db.session.scalar(dispatched) is not None

        # Without the NOTIFY the relay's next pass is two minutes away, and the minute backstop
        # (relay_outbox) leaves rows younger than 10 seconds alone: this would time out.
        _until(handed_over, 8, "the relay to hand the job to RQ", worker)
        _until(paid, 60, "the worker to apply the payment", worker)
    finally:
        worker.stop()


def test_refusals_keep_nothing(app, web_server, sandbox_db):
    with app.app_context():
        _, _, fields = _paid_express_payment(app, sandbox_db)
        good = _signed(app, fields)
        unknown = [("reference", "INV-NOT-OURS"), *fields[1:]]
        db.session.remove()
    url = f"{web_server}/webhooks/paynow"
    cases = {
        "bad hash": (400, urlencode([*fields, ("hash", "00")]), FORM),
        "unknown reference": (404, _signed(app, unknown), FORM),
        "NUL in a field": (400, good.replace("Paid", "Pa%00id"), FORM),
        "not UTF-8": (400, good.replace("Paid", "Pa%FFid"), FORM),
        "raw non-ASCII": (400, good.replace("Paid", "Päid").encode(), FORM),
        "another content type": (400, good, {"Content-Type": "application/json"}),
        "far too large": (413, good + "&pad=" + "x" * 70_000, FORM),
    }
    for name, (status, body, headers) in cases.items():
        answer = httpx.post(url, content=body, headers=headers, timeout=30)
        assert answer.status_code == status, (name, answer.status_code, answer.text)
        assert answer.text and "Traceback" not in answer.text
    assert httpx.get(url, timeout=30).status_code == 405  # only POST is a callback: Flask answers the rest
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProviderEvent)) == 0
        assert db.session.scalar(select(func.count()).where(JobOutbox.func.endswith(".handle_provider_event"))) == 0


def test_a_poll_url_off_paynows_host_is_never_polled(app, live_server, sandbox_db, run_jobs):
    """The callback can beat our bookkeeping (no poll URL saved yet): its poll URL is taken only on
    Paynow's host. Checked by the job, so the event records why and the payment is untouched."""
    with app.app_context():
        invoice_id, payment_id, fields = _paid_express_payment(app, sandbox_db, poll_url="http://evil.example/poll")
        db.session.get(Payment, payment_id).poll_url = None
        db.session.commit()
        body = _signed(app, fields)
    answer = app.test_client().post("/webhooks/paynow", data=body, headers=FORM)
    assert answer.status_code == 200
    run_jobs()
    with app.app_context():
        event = db.session.scalar(select(ProviderEvent))
        assert event.status == "FAILED" and "poll URL" in event.error
        assert db.session.get(Payment, payment_id).poll_url is None
        assert db.session.get(Invoice, invoice_id).status != "PAID"


def test_database_away_is_a_503_paynow_retries(app):
    """A real connection refused (a port nobody listens on) becomes 503 with Retry-After, not a 500."""
    from tests.servers import free_port
    from webapp.billing.receiver import CallbackReceiver

    receiver = CallbackReceiver(app)
    fields = [("reference", "R"), ("paynowreference", "1"), ("amount", "1.00"), ("status", "Paid"), ("pollurl", "x")]
    body = _signed(app, fields).encode()
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/webhooks/paynow",
        "headers": [(b"content-type", FORM["Content-Type"].encode())],
    }
    sent: list[dict] = []

    async def call():
        receiver.engine = create_async_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            return messages.pop(0)

        async def send(message):
            sent.append(message)

        await receiver.handle(scope, receive, send)
        await receiver.stop()

    asyncio.run(call())
    assert sent[0]["status"] == 503 and (b"retry-after", b"5") in sent[0]["headers"]
    assert b"try again" in sent[1]["body"]
