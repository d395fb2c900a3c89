"""A Stripe sandbox: the part of Stripe's REST API Tessera uses, so the official library talks to it
over HTTP (``STRIPE_API_BASE``) in development, the demo and the tests.

- ``/v1/…``: customers, payment methods (retrieve, attach, detach, list), setup intents, payment
  intents (create, confirm, retrieve), checkout sessions (payment and setup mode, retrieve, expire),
  refunds and events. Requests are form-encoded with Stripe's bracket notation
  (``metadata[invoice]=…``, ``line_items[0][price_data][unit_amount]=…``, ``expand[]=…``) and need
  ``Authorization: Bearer <STRIPE_SECRET_KEY>``. Answers are Stripe's objects and error shapes
  (``{"error": {"type", "code", "decline_code", "message", "param"}}``) with a ``Request-Id``.
  ``Idempotency-Key`` replays the first answer (``Idempotent-Replayed: true``) or refuses other
  parameters with an ``idempotency_error``.
- ``/checkout/<session>``: the hosted page where the payer enters a test card; ``/authenticate/<id>``:
  the 3-D Secure step. Test cards, as in Stripe's test mode:

  ================  =====================================================================
  4242424242424242  succeeds (Visa); 5555555555554444 succeeds (Mastercard)
  4000000000000002  declined, ``card_declined`` / ``generic_decline``
  4000000000009995  declined, ``insufficient_funds``
  4000002500003155  asks to authenticate on the page; once set up, off-session charges succeed
  4000000000000341  saving succeeds, every charge is declined
  ================  =====================================================================

  The test PaymentMethods ``pm_card_visa``, ``pm_card_mastercard``, ``pm_card_chargeDeclined``,
  ``pm_card_authenticationRequired`` and ``pm_card_chargeCustomerFail`` exist as in Stripe.
- Events are posted to the merchant's endpoint (``STRIPE_SANDBOX_WEBHOOK_URL``, by default
  ``BASE_URL/webhooks/stripe``) a moment later, signed as Stripe documents:
  ``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the endpoint secret>``.

State lives in the sandbox process's memory behind one lock (the sandbox is the outside party: none
of it is in any table); it is lost when the process restarts or ``POST /_sandbox/reset`` is called,
as a test-mode account would be reset. ``/_test/webhooks`` and ``/_test/deliveries/wait`` are
test-mode switches for the tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import string
import threading
import time
from typing import Any, Literal, overload
from urllib.parse import parse_qsl

import httpx
from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

bp = Blueprint("sandbox_stripe", __name__)

WEBHOOK_DELAY_SECONDS = 0.15
_ALPHABET = string.ascii_letters + string.digits

CARDS: dict[str, dict] = {
    "4242424242424242": {"brand": "visa"},
    "5555555555554444": {"brand": "mastercard"},
    "4000000000000002": {"brand": "visa", "decline": "generic_decline"},
    "4000000000009995": {"brand": "visa", "decline": "insufficient_funds"},
    "4000002500003155": {"brand": "visa", "authenticate": True},
    "4000000000000341": {"brand": "visa", "charge_fails": True},
}
TEST_METHODS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_authenticationRequired": "4000002500003155",
    "pm_card_chargeCustomerFail": "4000000000000341",
}
DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "authentication_required": "Your card was declined. This transaction requires authentication.",
}


class StripeSandboxError(Exception):
    def __init__(self, status: int, message: str, *, type_="invalid_request_error", code=None, param=None, **extra):
        super().__init__(message)
        self.status = status
        self.body = {"message": message, "type": type_}
        if code:
            self.body["code"] = code
            self.body["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param:
            self.body["param"] = param
        self.body.update(extra)


class Store:
    """Every object by id, the idempotency records and the events, guarded by one re-entrant lock."""

    def __init__(self):
        self.lock = threading.RLock()
        self.objects: dict[str, dict] = {}
        self.card_numbers: dict[str, str] = {}  # payment method id -> test card number (never leaves here)
        self.authenticated: set[str] = set()  # payment methods set up with authentication done
        self.idempotency: dict[tuple[str, str], tuple[str, int, str]] = {}
        self.events: list[str] = []
        self.deliveries: list[threading.Thread] = []
        self.webhooks_enabled = True

    def wait_for_deliveries(self, timeout: float = 10.0) -> None:
        """Until every webhook sent so far was delivered (tests: none lands in the next test)."""
        deadline = time.monotonic() + timeout
        while self.deliveries:
            thread = self.deliveries.pop()
            thread.join(max(0.0, deadline - time.monotonic()))

    def reset(self) -> None:
        self.wait_for_deliveries()
        with self.lock:
            self.objects.clear()
            self.card_numbers.clear()
            self.authenticated.clear()
            self.idempotency.clear()
            self.events.clear()
            self.webhooks_enabled = True


STORE = Store()


def reset() -> None:
    """``POST /_sandbox/reset``: a fresh test-mode account (after the webhooks under way are delivered)."""
    STORE.reset()


def new_id(prefix: str) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(24))}"


def _now() -> int:
    return int(time.time())


# --- request parsing -----------------------------------------------------------------------------


def parse_form(body: str) -> dict:
    """Stripe's bracket notation into nested dicts and lists: ``a[b][0][c]=1``, ``expand[]=x``."""
    root: dict = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = key.replace("]", "").split("[")
        node: dict = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if parts[-1] == "":  # a[]=x appends
            node.setdefault(str(len(node)), value)
        else:
            node[parts[-1]] = value
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _params() -> dict:
    if request.method == "GET":
        return parse_form(request.query_string.decode())
    return parse_form(request.get_data(as_text=True))


@overload
def _int(params: dict, name: str, *, required: Literal[True] = True) -> int: ...


@overload
def _int(params: dict, name: str, *, required: bool) -> int | None: ...


def _int(params: dict, name: str, *, required: bool = True) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        if required:
            raise StripeSandboxError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeSandboxError(
            400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=name
        ) from None


def _bool(value) -> bool:
    return str(value).lower() in ("true", "1")


def _get(object_id: str, kind: str) -> dict:
    obj = STORE.objects.get(object_id)
    if obj is None and kind == "payment_method" and object_id in TEST_METHODS:
        obj = _create_payment_method(TEST_METHODS[object_id], 12, _year() + 3, keep_id=object_id)
    if obj is None or obj["object"] != kind:
        raise StripeSandboxError(
            404, f"No such {kind.replace('.', '_')}: '{object_id}'", code="resource_missing", param="id"
        )
    return obj


def _year() -> int:
    return time.gmtime().tm_year


# --- the API wrapper -----------------------------------------------------------------------------


def _answer(status: int, body: dict, replayed: bool = False) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["Request-Id"] = new_id("req")
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def api(handler):
    """Authenticate, honour Idempotency-Key, answer JSON or Stripe's error shape."""

    def wrapped(**kwargs):
        key = (request.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if not key or not hmac.compare_digest(key, current_app.config.get("STRIPE_SECRET_KEY") or "-"):
            shown = f"{key[:8]}****{key[-4:]}" if len(key) > 12 else "****"
            return _answer(
                401, {"error": {"message": f"Invalid API Key provided: {shown}", "type": "invalid_request_error"}}
            )
        idem = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        fingerprint = hashlib.sha256(f"{request.path}?{request.get_data(as_text=True)}".encode()).hexdigest()
        with STORE.lock:
            if idem:
                seen = STORE.idempotency.get((key, idem))
                if seen is not None:
                    if seen[0] != fingerprint:
                        message = (
                            "Keys for idempotent requests can only be used with the same parameters they were "
                            f"first used with. Try using a key other than '{idem}' if you meant to execute a "
                            "different request."
                        )
                        return _answer(400, {"error": {"message": message, "type": "idempotency_error"}})
                    return _answer(seen[1], json.loads(seen[2]), replayed=True)
            try:
                status, body = 200, handler(_params(), **kwargs)
            except StripeSandboxError as error:
                status, body = error.status, {"error": error.body}
            if idem and status < 500:
                STORE.idempotency[(key, idem)] = (fingerprint, status, json.dumps(body))
        return _answer(status, body)

    wrapped.__name__ = handler.__name__
    return wrapped


def _expand(obj: dict, params: dict) -> dict:
    out = dict(obj)
    for path in params.get("expand") or []:
        field = path.split(".")[0]
        value = out.get(field)
        if isinstance(value, str) and value in STORE.objects:
            out[field] = dict(STORE.objects[value])
    return out


# --- events and webhooks -------------------------------------------------------------------------


def _emit(type_: str, obj: dict) -> dict:
    event: dict[str, Any] = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": _now(),
        "data": {"object": json.loads(json.dumps(obj))},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }
    STORE.objects[event["id"]] = event
    STORE.events.append(event["id"])
    _deliver(event)
    return event


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """``t=…,v1=…`` exactly as Stripe signs: HMAC-SHA256 of ``"<t>.<payload>"`` with the endpoint secret."""
    timestamp = _now() if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _deliver(event: dict) -> None:
    url = current_app.config.get("STRIPE_WEBHOOK_URL")
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET") or ""
    if not url or not secret or not STORE.webhooks_enabled:
        return
    payload = json.dumps(event)

    def send():
        time.sleep(WEBHOOK_DELAY_SECONDS)
        headers = {"Content-Type": "application/json", "Stripe-Signature": signature_header(payload, secret)}
        with contextlib.suppress(httpx.HTTPError):  # Stripe would retry; the merchant can also reconcile
            httpx.post(url, content=payload, headers=headers, timeout=10)

    thread = threading.Thread(target=send, daemon=True)
    STORE.deliveries.append(thread)
    thread.start()


# --- customers -----------------------------------------------------------------------------------


@bp.post("/v1/customers")
@api
def create_customer(params):
    customer = {
        "id": new_id("cus"),
        "object": "customer",
        "created": _now(),
        "email": params.get("email"),
        "name": params.get("name"),
        "metadata": params.get("metadata") or {},
        "invoice_settings": {"default_payment_method": None},
        "livemode": False,
    }
    STORE.objects[customer["id"]] = customer
    return customer


@bp.get("/v1/customers/<customer_id>")
@api
def retrieve_customer(params, customer_id):
    return _expand(_get(customer_id, "customer"), params)


@bp.post("/v1/customers/<customer_id>")
@api
def update_customer(params, customer_id):
    customer = _get(customer_id, "customer")
    for field in ("email", "name"):
        if field in params:
            customer[field] = params[field]
    default = (params.get("invoice_settings") or {}).get("default_payment_method")
    if default is not None:
        if default and _get(default, "payment_method").get("customer") != customer_id:
            raise StripeSandboxError(
                400, "The customer does not have a payment method with that ID.", code="resource_missing"
            )
        customer["invoice_settings"]["default_payment_method"] = default or None
    customer.setdefault("metadata", {}).update(params.get("metadata") or {})
    return customer


@bp.get("/v1/customers/<customer_id>/payment_methods")
@api
def customer_payment_methods(params, customer_id):
    _get(customer_id, "customer")
    data = [o for o in STORE.objects.values() if o["object"] == "payment_method" and o.get("customer") == customer_id]
    return {"object": "list", "data": data, "has_more": False, "url": request.path}


# --- payment methods -----------------------------------------------------------------------------


def _create_payment_method(number: str, exp_month: int, exp_year: int, *, keep_id: str | None = None) -> dict:
    card = CARDS.get(number, {"brand": "mastercard" if number.startswith("5") else "visa"})
    method: dict[str, Any] = {
        "id": keep_id or new_id("pm"),
        "object": "payment_method",
        "type": "card",
        "created": _now(),
        "customer": None,
        "card": {
            "brand": card["brand"],
            "last4": number[-4:],
            "exp_month": exp_month,
            "exp_year": exp_year,
            "funding": "credit",
            "country": "US",
            "fingerprint": hashlib.sha256(number.encode()).hexdigest()[:16],
        },
        "billing_details": {"name": None, "email": None},
        "metadata": {},
        "livemode": False,
    }
    STORE.objects[method["id"]] = method
    STORE.card_numbers[method["id"]] = number
    return method


def _attach(method: dict, customer_id: str) -> dict:
    if method["id"] in TEST_METHODS:  # like Stripe: a test method attaches as a fresh copy
        number = STORE.card_numbers[method["id"]]
        method = _create_payment_method(number, method["card"]["exp_month"], method["card"]["exp_year"])
    if method.get("customer") and method["customer"] != customer_id:
        raise StripeSandboxError(400, "This PaymentMethod is already attached to another customer.")
    method["customer"] = customer_id
    _emit("payment_method.attached", method)
    return method


@bp.get("/v1/payment_methods/<method_id>")
@api
def retrieve_payment_method(params, method_id):
    return _get(method_id, "payment_method")


@bp.post("/v1/payment_methods/<method_id>/attach")
@api
def attach_payment_method(params, method_id):
    customer_id = params.get("customer") or ""
    _get(customer_id, "customer")
    return _attach(_get(method_id, "payment_method"), customer_id)


@bp.post("/v1/payment_methods/<method_id>/detach")
@api
def detach_payment_method(params, method_id):
    method = _get(method_id, "payment_method")
    if not method.get("customer"):
        raise StripeSandboxError(
            400,
            "The payment method you provided is not attached to a customer so detachment is impossible.",
            code="payment_method_unexpected_state",
        )
    customer = STORE.objects.get(method["customer"])
    if customer and customer["invoice_settings"]["default_payment_method"] == method_id:
        customer["invoice_settings"]["default_payment_method"] = None
    method["customer"] = None
    _emit("payment_method.detached", method)
    return method


# --- charges and payment intents -----------------------------------------------------------------


def _card_error(code: str, decline_code: str | None, intent: dict | None, charge: dict | None) -> StripeSandboxError:
    extra: dict = {}
    if decline_code:
        extra["decline_code"] = decline_code
    if intent is not None:
        extra["payment_intent"] = intent
        extra["payment_method"] = STORE.objects.get(intent.get("payment_method") or "")
    if charge is not None:
        extra["charge"] = charge["id"]
    message = DECLINE_MESSAGES.get(decline_code or code, "Your card was declined.")
    return StripeSandboxError(402, message, type_="card_error", code=code, **extra)


def _charge(intent: dict, method: dict, *, failure: tuple[str, str] | None = None) -> dict:
    charge = {
        "id": new_id("ch"),
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": 0 if failure else intent["amount"],
        "amount_refunded": 0,
        "currency": intent["currency"],
        "customer": intent.get("customer"),
        "payment_intent": intent["id"],
        "payment_method": method["id"],
        "payment_method_details": {"type": "card", "card": dict(method["card"])},
        "paid": failure is None,
        "captured": failure is None,
        "refunded": False,
        "status": "failed" if failure else "succeeded",
        "failure_code": failure[0] if failure else None,
        "failure_message": DECLINE_MESSAGES.get(failure[1]) if failure else None,
        "outcome": {"type": "issuer_declined" if failure else "authorized", "network_status": "approved_by_network"},
        "metadata": dict(intent.get("metadata") or {}),
        "refunds": {"object": "list", "data": [], "has_more": False},
        "created": _now(),
        "livemode": False,
    }
    STORE.objects[charge["id"]] = charge
    intent["latest_charge"] = charge["id"]
    return charge


def _succeed(intent: dict, method: dict) -> dict:
    charge = _charge(intent, method)
    intent.update(status="succeeded", amount_received=intent["amount"], last_payment_error=None, next_action=None)
    if intent.get("setup_future_usage") and intent.get("customer") and not method.get("customer"):
        _attach(method, intent["customer"])
    _emit("charge.succeeded", charge)
    _emit("payment_intent.succeeded", intent)
    return intent


def _fail(intent: dict, method: dict, code: str, decline_code: str, *, raise_error: bool) -> dict:
    charge = _charge(intent, method, failure=(code, decline_code)) if code == "card_declined" else None
    intent.update(
        status="requires_payment_method",
        last_payment_error={
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": DECLINE_MESSAGES.get(decline_code, "Your card was declined."),
            "payment_method": dict(method),
        },
    )
    if charge is not None:
        _emit("charge.failed", charge)
    _emit("payment_intent.payment_failed", intent)
    if raise_error:
        raise _card_error(code, decline_code, intent, charge)
    return intent


def confirm_intent(intent: dict, *, off_session: bool, authenticated: bool = False, raise_error: bool = True) -> dict:
    """Run the test card's outcome on ``intent`` (Stripe's confirm). Over the API a decline is a 402
    card error; the hosted page (``raise_error=False``) shows it to the payer instead."""
    method = _get(intent.get("payment_method") or "", "payment_method")
    if intent.get("customer") and method.get("customer") not in (None, intent["customer"]):
        raise StripeSandboxError(400, "The PaymentMethod does not belong to this Customer.", param="payment_method")
    card = CARDS.get(STORE.card_numbers.get(method["id"], ""), {})
    if card.get("decline"):
        return _fail(intent, method, "card_declined", card["decline"], raise_error=raise_error)
    if card.get("charge_fails"):
        return _fail(intent, method, "card_declined", "generic_decline", raise_error=raise_error)
    if card.get("authenticate") and not authenticated and method["id"] not in STORE.authenticated:
        if off_session:
            return _fail(intent, method, "authentication_required", "authentication_required", raise_error=raise_error)
        intent.update(
            status="requires_action",
            next_action={
                "type": "redirect_to_url",
                "redirect_to_url": {
                    "url": url_for("sandbox_stripe.authenticate", intent_id=intent["id"], _external=True),
                    "return_url": intent.get("return_url"),
                },
            },
        )
        _emit("payment_intent.requires_action", intent)
        return intent
    return _succeed(intent, method)


def _new_intent(amount: int, currency: str, *, payment_method: str | None = None, **fields) -> dict:
    if payment_method:
        _get(payment_method, "payment_method")
    intent: dict[str, Any] = {
        "id": new_id("pi"),
        "object": "payment_intent",
        "amount": amount,
        "amount_received": 0,
        "currency": currency,
        "customer": fields.get("customer"),
        "description": fields.get("description"),
        "metadata": fields.get("metadata") or {},
        "payment_method": payment_method,
        "payment_method_types": ["card"],
        "setup_future_usage": fields.get("setup_future_usage"),
        "status": "requires_confirmation" if payment_method else "requires_payment_method",
        "latest_charge": None,
        "last_payment_error": None,
        "next_action": None,
        "return_url": fields.get("return_url"),
        "created": _now(),
        "livemode": False,
    }
    intent["client_secret"] = f"{intent['id']}_secret_{secrets.token_hex(8)}"
    STORE.objects[intent["id"]] = intent
    _emit("payment_intent.created", intent)
    return intent


@bp.post("/v1/payment_intents")
@api
def create_payment_intent(params):
    amount = _int(params, "amount")
    if amount < 50:
        raise StripeSandboxError(400, "Amount must be at least $0.50 usd", code="amount_too_small", param="amount")
    currency = (params.get("currency") or "").lower()
    if len(currency) != 3:
        raise StripeSandboxError(400, "Missing required param: currency.", code="parameter_missing", param="currency")
    if params.get("customer"):
        _get(params["customer"], "customer")
    intent = _new_intent(
        amount,
        currency,
        customer=params.get("customer"),
        description=params.get("description"),
        metadata=params.get("metadata"),
        payment_method=params.get("payment_method"),
        setup_future_usage=params.get("setup_future_usage"),
        return_url=params.get("return_url"),
    )
    if _bool(params.get("confirm")):
        if not intent["payment_method"]:
            raise StripeSandboxError(
                400,
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
            )
        confirm_intent(intent, off_session=_bool(params.get("off_session")))
    return intent


@bp.get("/v1/payment_intents/<intent_id>")
@api
def retrieve_payment_intent(params, intent_id):
    return _expand(_get(intent_id, "payment_intent"), params)


@bp.post("/v1/payment_intents/<intent_id>/confirm")
@api
def confirm_payment_intent(params, intent_id):
    intent = _get(intent_id, "payment_intent")
    if intent["status"] == "succeeded":
        raise StripeSandboxError(
            400,
            "This PaymentIntent's payment_method could not be updated because it has a status of succeeded.",
            code="payment_intent_unexpected_state",
        )
    if params.get("payment_method"):
        intent["payment_method"] = _get(params["payment_method"], "payment_method")["id"]
    if params.get("return_url"):
        intent["return_url"] = params["return_url"]
    return confirm_intent(intent, off_session=_bool(params.get("off_session")))


# --- setup intents -------------------------------------------------------------------------------


def _new_setup_intent(customer: str | None, usage: str = "off_session", metadata: dict | None = None) -> dict:
    intent: dict[str, Any] = {
        "id": new_id("seti"),
        "object": "setup_intent",
        "customer": customer,
        "payment_method": None,
        "payment_method_types": ["card"],
        "status": "requires_payment_method",
        "usage": usage,
        "metadata": metadata or {},
        "last_setup_error": None,
        "created": _now(),
        "livemode": False,
    }
    intent["client_secret"] = f"{intent['id']}_secret_{secrets.token_hex(8)}"
    STORE.objects[intent["id"]] = intent
    _emit("setup_intent.created", intent)
    return intent


def _complete_setup(intent: dict, method: dict) -> dict:
    if intent.get("customer"):
        method = _attach(method, intent["customer"])
    if intent.get("usage") == "off_session":
        STORE.authenticated.add(method["id"])
    intent.update(status="succeeded", payment_method=method["id"], last_setup_error=None)
    _emit("setup_intent.succeeded", intent)
    return intent


@bp.post("/v1/setup_intents")
@api
def create_setup_intent(params):
    if params.get("customer"):
        _get(params["customer"], "customer")
    intent = _new_setup_intent(params.get("customer"), params.get("usage") or "off_session", params.get("metadata"))
    if _bool(params.get("confirm")) and params.get("payment_method"):
        method = _get(params["payment_method"], "payment_method")
        card = CARDS.get(STORE.card_numbers.get(method["id"], ""), {})
        if card.get("decline"):
            intent.update(status="requires_payment_method", last_setup_error={"code": "card_declined"})
            _emit("setup_intent.setup_failed", intent)
            raise _card_error("card_declined", card["decline"], None, None)
        _complete_setup(intent, method)
    return intent


@bp.get("/v1/setup_intents/<intent_id>")
@api
def retrieve_setup_intent(params, intent_id):
    return _expand(_get(intent_id, "setup_intent"), params)


# --- checkout sessions ---------------------------------------------------------------------------


@bp.post("/v1/checkout/sessions")
@api
def create_checkout_session(params):
    mode = params.get("mode")
    if mode not in ("payment", "setup"):
        raise StripeSandboxError(400, "Invalid mode: must be one of payment, setup or subscription", param="mode")
    if not params.get("success_url"):
        raise StripeSandboxError(
            400, "Missing required param: success_url.", code="parameter_missing", param="success_url"
        )
    customer = params.get("customer")
    if customer:
        _get(customer, "customer")
    session = {
        "id": new_id("cs_test"),
        "object": "checkout.session",
        "mode": mode,
        "status": "open",
        "payment_status": "unpaid" if mode == "payment" else "no_payment_required",
        "customer": customer,
        "client_reference_id": params.get("client_reference_id"),
        "metadata": params.get("metadata") or {},
        "success_url": params["success_url"],
        "cancel_url": params.get("cancel_url"),
        "payment_intent": None,
        "setup_intent": None,
        "amount_total": None,
        "currency": None,
        "created": _now(),
        "expires_at": _now() + 24 * 3600,
        "livemode": False,
    }
    if mode == "payment":
        items = params.get("line_items") or []
        if not items:
            raise StripeSandboxError(
                400, "Missing required param: line_items.", code="parameter_missing", param="line_items"
            )
        total, currency = 0, None
        for n, item in enumerate(items):
            price = item.get("price_data") or {}
            unit = _int(price, "unit_amount")
            quantity = int(item.get("quantity") or 1)
            total += unit * quantity
            currency = (price.get("currency") or "").lower() or currency
            if not (price.get("product_data") or {}).get("name"):
                raise StripeSandboxError(
                    400,
                    "Missing required param: line_items[0][price_data][product_data][name].",
                    code="parameter_missing",
                    param=f"line_items[{n}][price_data][product_data][name]",
                )
        session.update(amount_total=total, currency=currency)
        session["payment_intent_data"] = params.get("payment_intent_data") or {}
    else:
        setup = _new_setup_intent(customer, "off_session", (params.get("setup_intent_data") or {}).get("metadata"))
        session["setup_intent"] = setup["id"]
    session["url"] = url_for("sandbox_stripe.checkout", session_id=session["id"], _external=True)
    STORE.objects[session["id"]] = session
    return _public_session(session)


def _public_session(session: dict) -> dict:
    return {k: v for k, v in session.items() if k != "payment_intent_data"}


@bp.get("/v1/checkout/sessions/<session_id>")
@api
def retrieve_checkout_session(params, session_id):
    return _expand(_public_session(_get(session_id, "checkout.session")), params)


@bp.post("/v1/checkout/sessions/<session_id>/expire")
@api
def expire_checkout_session(params, session_id):
    session = _get(session_id, "checkout.session")
    if session["status"] != "open":
        raise StripeSandboxError(
            400,
            'Only Checkout Sessions with a status in ["open"] can be expired. '
            f'This session has status "{session["status"]}".',
        )
    session["status"] = "expired"
    _emit("checkout.session.expired", _public_session(session))
    return _public_session(session)


# --- refunds -------------------------------------------------------------------------------------


@bp.post("/v1/refunds")
@api
def create_refund(params):
    if params.get("payment_intent"):
        intent = _get(params["payment_intent"], "payment_intent")
        charge = STORE.objects.get(intent.get("latest_charge") or "")
        if intent["status"] != "succeeded" or charge is None:
            raise StripeSandboxError(
                400,
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
            )
    elif params.get("charge"):
        charge = _get(params["charge"], "charge")
    else:
        raise StripeSandboxError(
            400, "One of the following params should be provided for this request: payment_intent or charge."
        )
    remaining = charge["amount"] - charge["amount_refunded"]
    amount = _int(params, "amount", required=False) or remaining
    if remaining <= 0:
        raise StripeSandboxError(
            400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
        )
    if amount > remaining:
        raise StripeSandboxError(
            400,
            f"Refund amount ({amount / 100:.2f}) is greater than unrefunded amount on charge ({remaining / 100:.2f})",
            param="amount",
        )
    refund = {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "charge": charge["id"],
        "currency": charge["currency"],
        "payment_intent": charge["payment_intent"],
        "reason": params.get("reason"),
        "metadata": params.get("metadata") or {},
        "status": "succeeded",
        "created": _now(),
    }
    STORE.objects[refund["id"]] = refund
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    charge["refunds"]["data"].insert(0, refund)
    _emit("refund.created", refund)
    _emit("charge.refunded", charge)
    return refund


@bp.get("/v1/refunds/<refund_id>")
@api
def retrieve_refund(params, refund_id):
    return _get(refund_id, "refund")


@bp.get("/v1/charges/<charge_id>")
@api
def retrieve_charge(params, charge_id):
    return _get(charge_id, "charge")


@bp.get("/v1/events/<event_id>")
@api
def retrieve_event(params, event_id):
    return _get(event_id, "event")


@bp.get("/v1/events")
@api
def list_events(params):
    wanted = params.get("type")
    data = [STORE.objects[e] for e in reversed(STORE.events) if not wanted or STORE.objects[e]["type"] == wanted]
    limit = min(int(params.get("limit") or 10), 100)
    return {"object": "list", "data": data[:limit], "has_more": len(data) > limit, "url": "/v1/events"}


# --- test-mode controls (the tests; like Stripe CLI's switches) ----------------------------------


@bp.post("/_test/webhooks")
@api
def switch_webhooks(params):
    """``enabled=false`` stops sending events (they are still listed by ``GET /v1/events``)."""
    STORE.webhooks_enabled = str(params.get("enabled", "true")).lower() != "false"
    return {"object": "test_control", "webhooks_enabled": STORE.webhooks_enabled}


@bp.post("/_test/deliveries/wait")
def wait_for_deliveries():
    """Answers once every webhook sent so far has been delivered (or given up)."""
    STORE.wait_for_deliveries()
    return {"object": "test_control", "delivered": True}


# --- the hosted pages (the payer's browser) ------------------------------------------------------


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number]
    total = sum(digits[-1::-2]) + sum(sum(divmod(2 * d, 10)) for d in digits[-2::-2])
    return len(digits) >= 12 and total % 10 == 0


def _read_card(form) -> tuple[str | None, int, int, str | None]:
    number = "".join(ch for ch in form.get("card_number", "") if ch.isdigit())
    expiry = form.get("expiry", "").replace(" ", "")
    month, _, year = expiry.partition("/")
    try:
        exp_month, exp_year = int(month), int(year)
    except ValueError:
        return None, 0, 0, "Your card's expiration date is incomplete."
    exp_year += 2000 if exp_year < 100 else 0
    if not 1 <= exp_month <= 12 or (exp_year, exp_month) < (_year(), time.gmtime().tm_mon):
        return None, 0, 0, "Your card's expiration date is in the past."
    if not luhn_ok(number):
        return None, 0, 0, "Your card number is invalid."
    if not form.get("cvc", "").strip().isdigit():
        return None, 0, 0, "Your card's security code is incomplete."
    return number, exp_month, exp_year, None


def _finish_session(session: dict) -> WerkzeugResponse:
    session["status"] = "complete"
    if session["mode"] == "payment":
        session["payment_status"] = "paid"
    _emit("checkout.session.completed", _public_session(session))
    return redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"]), code=303)


def _pay_session(session: dict, method: dict, authenticated: bool = False) -> str | None:
    """Pay a payment-mode session with ``method``; None when paid, else the message to show."""
    data = session.get("payment_intent_data") or {}
    intent = STORE.objects.get(session["payment_intent"] or "")
    if intent is None:
        intent = _new_intent(
            session["amount_total"],
            session["currency"],
            customer=session.get("customer"),
            description=data.get("description"),
            metadata=data.get("metadata"),
            setup_future_usage=data.get("setup_future_usage"),
        )
        session["payment_intent"] = intent["id"]
    intent["payment_method"] = method["id"]
    confirm_intent(intent, off_session=False, authenticated=authenticated, raise_error=False)
    if intent["status"] == "succeeded":
        return None
    if intent["status"] == "requires_action":
        return "authenticate"
    return intent["last_payment_error"]["message"]


def _to_authenticate(intent_id: str) -> WerkzeugResponse:
    return redirect(url_for("sandbox_stripe.authenticate", intent_id=intent_id, _external=True), code=303)


@bp.route("/checkout/<session_id>", methods=["GET", "POST"])
def checkout(session_id):
    with STORE.lock:
        session = STORE.objects.get(session_id)
        if session is None or session["object"] != "checkout.session":
            abort(404)
        error = None
        if request.method == "POST" and session["status"] == "open":
            number, exp_month, exp_year, error = _read_card(request.form)
            if error is None and number is not None:  # a card without an error has its number
                method = _create_payment_method(number, exp_month, exp_year)
                if session["mode"] == "setup":
                    card = CARDS.get(number, {})
                    intent = STORE.objects[session["setup_intent"]]
                    intent["payment_method"] = method["id"]
                    if card.get("decline"):
                        intent["last_setup_error"] = {"code": "card_declined", "decline_code": card["decline"]}
                        _emit("setup_intent.setup_failed", intent)
                        error = DECLINE_MESSAGES[card["decline"]]
                    elif card.get("authenticate"):
                        intent["status"] = "requires_action"
                        return _to_authenticate(intent["id"])
                    else:
                        _complete_setup(intent, method)
                        return _finish_session(session)
                else:
                    error = _pay_session(session, method)
                    if error == "authenticate":
                        intent_id = session["payment_intent"]
                        return _to_authenticate(intent_id)
                    if error is None:
                        return _finish_session(session)
        status = 402 if error else 200
        return render_template("billing/sandbox_stripe_checkout.html", session=session, error=error), status


def _session_of(intent_id: str) -> dict | None:
    field = "setup_intent" if intent_id.startswith("seti_") else "payment_intent"
    return next(
        (o for o in STORE.objects.values() if o["object"] == "checkout.session" and o.get(field) == intent_id), None
    )


@bp.route("/authenticate/<intent_id>", methods=["GET", "POST"])
def authenticate(intent_id):
    """The issuer's 3-D Secure page: Complete or Fail the authentication."""
    with STORE.lock:
        intent = STORE.objects.get(intent_id)
        if intent is None or intent["object"] not in ("payment_intent", "setup_intent"):
            abort(404)
        session = _session_of(intent_id)
        if request.method == "POST" and intent["status"] == "requires_action":
            method = STORE.objects[intent["payment_method"]]
            if request.form.get("action") == "complete":
                if intent["object"] == "setup_intent":
                    _complete_setup(intent, method)
                else:
                    confirm_intent(intent, off_session=False, authenticated=True, raise_error=False)
            else:
                failure = {"code": "payment_intent_authentication_failure", "message": "Authentication failed."}
                if intent["object"] == "setup_intent":
                    intent.update(status="requires_payment_method", last_setup_error=failure)
                    _emit("setup_intent.setup_failed", intent)
                else:
                    intent.update(status="requires_payment_method", last_payment_error=failure, next_action=None)
                    _emit("payment_intent.payment_failed", intent)
            if session is not None:
                if intent["status"] == "succeeded":
                    return _finish_session(session)
                back = url_for("sandbox_stripe.checkout", session_id=session["id"], _external=True)
                return redirect(back, code=303)
            target = intent.get("return_url") or url_for(
                "sandbox_stripe.authenticate", intent_id=intent_id, _external=True
            )
            return redirect(target, code=303)
        return render_template("billing/sandbox_stripe_authenticate.html", intent=intent)
