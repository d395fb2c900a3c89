"""A Paynow sandbox speaking the published protocol, so the demo and tests pay end to end offline.

Endpoints (under /sandbox/paynow): ``interface/initiatetransaction`` (web checkout),
``interface/remotetransaction`` (express), ``interface/poll/<token>`` and a browser checkout page
``checkout/<token>`` with Pay and Cancel. Every request is hash-checked with the integration key
from PAYNOW_INTEGRATION_KEY; replies are hashed the same way. Status changes are posted to the
merchant's result URL (form-encoded, hashed), a moment after the reply, over real HTTP.

Test phone numbers (express), as in Paynow's test mode:
  0771111111  success at once
  0772222222  delayed success (Sent, then Paid about 5 seconds later, seen on the next poll)
  0773333333  cancelled by the user
  0774444444  insufficient funds (Failed)
Any other number stays Sent (waiting for the customer's PIN).
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import urlencode

import httpx
from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.providers.paynow import make_hash, parse_amount, verify_hash
from webapp.integrations.sandboxes._state import SandboxModel

bp = Blueprint("sandbox_paynow", __name__)

TEST_PHONES = {
    "0771111111": "Paid",
    "0772222222": "Delayed",
    "0773333333": "Cancelled",
    "0774444444": "Failed",
}
DELAY = timedelta(seconds=5)
CALLBACK_DELAY_SECONDS = 0.2
EXPRESS = {"ecocash", "onemoney", "innbucks"}


class SandboxPaynowTransaction(SandboxModel):
    __tablename__ = "sandbox_paynow_transactions"

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    integration_id: Mapped[str] = mapped_column(String(64))
    reference: Mapped[str] = mapped_column(String(120))
    paynow_reference: Mapped[str] = mapped_column(String(32))
    amount: Mapped[str] = mapped_column(String(20))
    additional_info: Mapped[str | None] = mapped_column(Text)
    auth_email: Mapped[str | None] = mapped_column(String(254))
    return_url: Mapped[str | None] = mapped_column(String(500))
    result_url: Mapped[str | None] = mapped_column(String(500))
    method: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(32), default="Created")
    ready_at: Mapped[datetime | None]
    polls: Mapped[int] = mapped_column(Integer, default=0)


def _key() -> str:
    return current_app.config["PAYNOW_INTEGRATION_KEY"]


def _reply(fields: list[tuple[str, str]], hashed: bool = True) -> Response:
    if hashed:
        fields = [*fields, ("hash", make_hash(fields, _key()))]
    return Response(urlencode(fields), mimetype="application/x-www-form-urlencoded")


def _error(message: str) -> Response:
    return _reply([("status", "Error"), ("error", message)], hashed=False)


def _base() -> str:
    return url_for("sandbox_paynow.initiate", _external=True).rsplit("/interface/", 1)[0]


def _status_fields(txn: SandboxPaynowTransaction) -> list[tuple[str, str]]:
    return [
        ("reference", txn.reference),
        ("paynowreference", txn.paynow_reference),
        ("amount", txn.amount),
        ("status", txn.status),
        ("pollurl", f"{_base()}/interface/poll/{txn.token}"),
    ]


def _send_result(txn: SandboxPaynowTransaction) -> None:
    """Post the status to the merchant's result URL shortly after, from another thread."""
    if not txn.result_url:
        return
    fields = _status_fields(txn)
    body = urlencode([*fields, ("hash", make_hash(fields, _key()))])
    url = txn.result_url

    def deliver():
        time.sleep(CALLBACK_DELAY_SECONDS)
        with contextlib.suppress(httpx.HTTPError):  # the merchant polls anyway
            httpx.post(url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)

    threading.Thread(target=deliver, daemon=True).start()


def _create(express: bool) -> Response:
    fields = list(request.form.items(multi=True))
    data = {k.lower(): v for k, v in fields}
    if data.get("id") != str(current_app.config["PAYNOW_INTEGRATION_ID"]):
        return _error("Invalid Id.")
    if not verify_hash(fields, _key()):
        return _error("Hashes do not match")
    cents = parse_amount(data.get("amount", ""))
    if cents is None or cents <= 0:
        return _error("Invalid amount field")
    if not data.get("reference"):
        return _error("Invalid reference field")
    txn = SandboxPaynowTransaction(
        token=secrets.token_urlsafe(16),
        integration_id=data["id"],
        reference=data["reference"][:120],
        paynow_reference=str(secrets.randbelow(90_000_000) + 10_000_000),
        amount=data["amount"],
        additional_info=data.get("additionalinfo"),
        auth_email=data.get("authemail"),
        return_url=data.get("returnurl"),
        result_url=data.get("resulturl"),
        status="Created",
    )
    if express:
        method = data.get("method", "").lower()
        if method not in EXPRESS:
            return _error("Invalid method field")
        phone = data.get("phone", "").strip()
        if not phone.isdigit() or len(phone) != 10:
            return _error("Invalid phone number")
        txn.method, txn.phone = method, phone
        outcome = TEST_PHONES.get(phone, "Sent")
        if outcome == "Delayed":
            txn.status, txn.ready_at = "Sent", utcnow() + DELAY
        else:
            txn.status = outcome
    db.session.add(txn)
    db.session.commit()
    reply = [("status", "Ok"), ("pollurl", f"{_base()}/interface/poll/{txn.token}")]
    if express:
        reply.insert(1, ("instructions", f"Dial *151# on {txn.phone} and enter your PIN to approve {txn.amount}."))
        reply.append(("paynowreference", txn.paynow_reference))
        if txn.status in ("Paid", "Cancelled", "Failed"):
            _send_result(txn)
    else:
        reply.insert(1, ("browserurl", url_for("sandbox_paynow.checkout", token=txn.token, _external=True)))
    return _reply(reply)


@bp.post("/interface/initiatetransaction")
def initiate():
    return _create(express=False)


@bp.post("/interface/remotetransaction")
def remote():
    return _create(express=True)


def _find(token: str) -> SandboxPaynowTransaction | None:
    return db.session.scalar(select(SandboxPaynowTransaction).where(SandboxPaynowTransaction.token == token))


@bp.route("/interface/poll/<token>", methods=["GET", "POST"])
def poll(token):
    txn = _find(token)
    if txn is None:
        return _error("Transaction not found")
    txn.polls += 1
    if txn.status == "Sent" and txn.ready_at is not None and txn.ready_at <= utcnow():
        txn.status = "Paid"
        txn.ready_at = None
        _send_result(txn)
    db.session.commit()
    return _reply(_status_fields(txn))


@bp.route("/checkout/<token>", methods=["GET", "POST"])
def checkout(token):
    txn = _find(token)
    if txn is None:
        abort(404)
    if request.method == "POST" and txn.status in ("Created", "Sent"):
        action = request.form.get("action")
        if action in ("pay", "cancel"):
            txn.status = "Paid" if action == "pay" else "Cancelled"
            txn.method = request.form.get("method") or "visa"
            db.session.commit()
            _send_result(txn)
            return redirect(txn.return_url or url_for("sandbox_paynow.checkout", token=token), code=303)
    return render_template("billing/sandbox_paynow_checkout.html", txn=txn)
