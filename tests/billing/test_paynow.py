"""Paynow: our client against the sandbox process over real HTTP, the pay page, the webhook."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import func, select, update

from tests.billing.helpers import mail_with, make_invoice, org_with_owner
from webapp.audit.models import AuditEntry
from webapp.billing import services as billing
from webapp.billing.models import Invoice, Payment
from webapp.billing.payment_models import ProviderEvent
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.models import OutboundCall
from webapp.integrations.providers.paynow import PaynowClient, PaynowError, make_hash, verify_hash
from webapp.integrations.sandboxes.paynow import SandboxPaynowTransaction


def wait_for(check, seconds=30.0, run_jobs=None):
    """Until ``check()`` holds; with ``run_jobs``, the queued jobs (the callback's confirmation) run
    in between, as a worker would run them."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if run_jobs is not None:
            run_jobs()
        db.session.expire_all()
        if check():
            return True
        time.sleep(0.1)
    return False


def test_hash_is_sha512_uppercase_over_values_in_order_plus_key():
    fields = [("id", "1201"), ("reference", "INV-1"), ("amount", "10.00"), ("status", "Message")]
    expected = hashlib.sha512(b"1201INV-110.00Messagesecret").hexdigest().upper()
    assert make_hash(fields, "secret") == expected
    assert verify_hash([*fields, ("hash", expected)], "secret")
    assert not verify_hash([*fields, ("hash", expected)], "other")
    assert not verify_hash(fields, "secret")


def _pay_express(client, invoice, phone, method="PAYNOW_ECOCASH"):
    return client.post(f"/pay/{invoice.payment_token}/express", {"method": method, "phone": phone})


def test_express_success_pays_the_invoice_through_the_callback(ctx, client, run_jobs, mailbox):
    org, _ = org_with_owner("shop@example.com")
    invoice = make_invoice(org, lines=((1, 10_000),))
    response = _pay_express(client, invoice, "0771111111")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    payment = db.session.scalar(select(Payment).where(Payment.invoice_id == invoice.id))
    assert payment.method == "PAYNOW_ECOCASH" and payment.phone == "0771111111"
    assert payment.poll_url.startswith(ctx.app.config["PAYNOW_BASE_URL"])
    assert wait_for(lambda: db.session.get(Invoice, invoice.id).status == "PAID", run_jobs=run_jobs)
    payment = db.session.get(Payment, payment.id)
    assert payment.status == "PAID" and payment.external_status == "Paid" and payment.provider_reference
    event = db.session.scalar(select(ProviderEvent))
    assert event.provider == "paynow" and event.status == "PROCESSED" and event.payment_id == payment.id
    page = client.get(response.headers["Location"])
    assert "Thank you" in page.get_data(as_text=True)
    calls = set(db.session.scalars(select(OutboundCall.action).where(OutboundCall.provider == "paynow")))
    assert {"remote_transaction", "poll_transaction"} <= calls
    mail_with(mailbox, "shop@example.com", "is paid", run_jobs=run_jobs)


def test_web_checkout_pay_in_the_sandbox_browser_page(ctx, client, run_jobs):
    org, _ = org_with_owner()
    invoice = make_invoice(org, lines=((2, 2_500),))
    response = client.post(f"/pay/{invoice.payment_token}/web", {"method": "PAYNOW_VISA"})
    assert response.status_code == 303
    checkout = response.headers["Location"]
    assert "/sandbox/paynow/checkout/" in checkout
    page = httpx.get(checkout)
    assert "Pay 57.50" in page.text
    done = httpx.post(checkout, data={"action": "pay", "method": "visa"})
    assert done.status_code == 303 and f"/pay/{invoice.payment_token}/payments/" in done.headers["location"]
    assert wait_for(lambda: db.session.get(Invoice, invoice.id).status == "PAID", run_jobs=run_jobs)


@pytest.mark.parametrize(
    ("phone", "status"), [("0773333333", "CANCELLED"), ("0774444444", "FAILED")], ids=["cancelled", "no-funds"]
)
def test_express_refusals_leave_the_invoice_open(ctx, client, run_jobs, phone, status):
    org, _ = org_with_owner()
    invoice = make_invoice(org)
    response = _pay_express(client, invoice, phone, "PAYNOW_ONEMONEY")
    assert response.status_code == 303
    assert wait_for(lambda: db.session.scalar(select(Payment.status)) == status, run_jobs=run_jobs)
    assert db.session.get(Invoice, invoice.id).status == "ISSUED"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "nothing was charged" in page.lower() and "Try again" in page


def test_delayed_success_is_found_by_polling(ctx, client, sandbox_db):
    org, _ = org_with_owner()
    invoice = make_invoice(org)
    response = _pay_express(client, invoice, "0772222222", "PAYNOW_INNBUCKS")
    status_url = response.headers["Location"]
    page = client.get(status_url, htmx=True).get_data(as_text=True)
    assert "Waiting for Paynow" in page and "every 2s" in page and 'hx-post="' in page
    check_url = status_url.replace(ctx.app.config["BASE_URL"], "") + "/check"
    page = client.post(check_url, htmx=True).get_data(as_text=True)
    assert "Waiting for Paynow" in page
    sandbox_db.execute(update(SandboxPaynowTransaction).values(ready_at=utcnow() - timedelta(seconds=1)))
    sandbox_db.commit()
    page = client.post(check_url, htmx=True).get_data(as_text=True)
    assert "Thank you" in page
    assert db.session.get(Invoice, invoice.id).status == "PAID"
    # without JavaScript the button posts and comes back to the status page
    assert client.post(check_url).status_code == 303


def test_express_form_errors_are_shown(ctx, client):
    org, _ = org_with_owner()
    invoice = make_invoice(org)
    response = _pay_express(client, invoice, "12345")
    assert response.status_code == 422
    assert "Enter a mobile number" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_pay_link_refuses_paid_void_expired_and_unknown(ctx, client, run_jobs):
    org, _ = org_with_owner()
    paid = make_invoice(org)
    billing.record_manual_payment(paid, None, paid.amount_due, "CASH", "R")
    void = make_invoice(org)
    billing.void_invoice(void, None, "duplicate")
    expired = make_invoice(org)
    run_jobs()  # the e-mail jobs renew expired links; let them run before the link expires
    expired.payment_token_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    for token, text in (
        (paid.payment_token, "already paid"),
        (void.payment_token, "cancelled"),
        (expired.payment_token, "expired"),
    ):
        response = client.get(f"/pay/{token}")
        assert response.status_code == 410 and text in response.get_data(as_text=True)
        assert (
            client.post(f"/pay/{token}/express", {"method": "PAYNOW_ECOCASH", "phone": "0771111111"}).status_code == 410
        )
    assert client.get("/pay/not-a-token").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_webhook_rejects_bad_hash_and_unknown_reference(ctx, client):
    key = ctx.app.config["PAYNOW_INTEGRATION_KEY"]
    fields = [
        ("reference", "INV-X"),
        ("paynowreference", "1"),
        ("amount", "1.00"),
        ("status", "Paid"),
        ("pollurl", "http://evil.example/poll"),
    ]
    bad = client.post("/webhooks/paynow", dict([*fields, ("hash", "00")]), csrf=False)
    assert bad.status_code == 400
    good = client.post("/webhooks/paynow", dict([*fields, ("hash", make_hash(fields, key))]), csrf=False)
    assert good.status_code == 404


def test_client_refuses_a_reply_with_a_wrong_hash(ctx):
    client = PaynowClient(integration_key="wrong-key")
    with pytest.raises(PaynowError):
        client.initiate(
            reference="R", amount_cents=100, additional_info="x", return_url="http://a/", result_url="http://a/"
        )


@pytest.mark.postgres
def test_fifty_identical_callbacks_apply_the_payment_once(app, live_server, sandbox_db, run_jobs):
    with app.app_context():
        org, _ = org_with_owner()
        invoice = make_invoice(org, lines=((1, 10_000),))
        token = invoice.payment_token
        invoice_id = invoice.id
        client = app.test_client()
        from tests.conftest import Browserish

        browser = Browserish(client)
        response = browser.post(f"/pay/{token}/express", {"method": "PAYNOW_ECOCASH", "phone": "0779999999"})
        assert response.status_code == 303
        payment = db.session.scalar(select(Payment).where(Payment.invoice_id == invoice_id))
        txn = sandbox_db.scalar(select(SandboxPaynowTransaction))
        txn.status = "Paid"  # the customer approved on the phone
        sandbox_db.commit()
        key = app.config["PAYNOW_INTEGRATION_KEY"]
        fields = [
            ("reference", payment.external_reference),
            ("paynowreference", txn.paynow_reference),
            ("amount", txn.amount),
            ("status", "Paid"),
            ("pollurl", payment.poll_url),
        ]
        body = urlencode([*fields, ("hash", make_hash(fields, key))])
        payment_id = payment.id
        db.session.remove()

    barrier = threading.Barrier(50)
    codes = []

    def send():
        barrier.wait()
        r = httpx.post(
            f"{live_server}/webhooks/paynow",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=60,
        )
        codes.append(r.status_code)

    threads = [threading.Thread(target=send) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes.count(200) == 50, codes
    run_jobs()  # the confirmation: one poll of Paynow, in a job
    with app.app_context():
        events = db.session.scalars(select(ProviderEvent)).all()
        assert len(events) == 1 and events[0].status == "PROCESSED"  # fifty deliveries, one event
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice.status == "PAID" and invoice.amount_paid == 11_500
        assert db.session.get(Payment, payment_id).status == "PAID"
        received = db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "payment.received")
        )
        assert received == 1
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_provider_statuses_map_and_only_move_forward(ctx):
    from webapp.billing.providers.paynow import apply_status

    org, _ = org_with_owner()
    invoice = make_invoice(org, lines=((1, 10_000),))
    payment = billing.start_provider_payment(invoice, provider="paynow", method="PAYNOW_ECOCASH", reference="R-1")
    assert apply_status(payment, "Sent") is False and payment.status == "PENDING" and payment.external_status == "Sent"
    assert apply_status(payment, "Awaiting Delivery") is True
    assert payment.status == "PAID" and invoice.status == "PAID"
    assert apply_status(payment, "Cancelled") is False and payment.status == "PAID"
    assert apply_status(payment, "Paid") is False and invoice.amount_paid == 11_500
    assert apply_status(payment, "Refunded") is True and payment.status == "REFUNDED"

    other = make_invoice(org)
    wrong = billing.start_provider_payment(other, provider="paynow", method="PAYNOW_VISA", reference="R-2")
    assert apply_status(wrong, "Paid", amount=1) is True  # a different amount than ours is not paid
    assert wrong.status == "FAILED" and other.status == "ISSUED"


def test_the_polling_job_settles_payments_whose_callback_never_came(ctx, client, run_jobs, sandbox_db):
    from webapp.billing.payment_jobs import poll_pending_payments

    org, _ = org_with_owner()
    invoice = make_invoice(org)
    _pay_express(client, invoice, "0772222222")  # delayed: no callback until a poll sees it paid
    poll_pending_payments()
    db.session.commit()
    assert db.session.scalar(select(Payment.status)) == "PENDING"
    sandbox_db.execute(update(SandboxPaynowTransaction).values(ready_at=utcnow() - timedelta(seconds=1)))
    sandbox_db.commit()
    poll_pending_payments()
    db.session.expire_all()
    assert db.session.scalar(select(Payment.status)) == "PAID"
    assert db.session.get(Invoice, invoice.id).status == "PAID"
