"""Paynow (Zimbabwe) to the published protocol.

Requests are form-encoded POSTs to ``{base}/interface/initiatetransaction`` (web checkout) and
``{base}/interface/remotetransaction`` (mobile express: EcoCash, OneMoney, InnBucks) with the fields
``id, reference, amount, additionalinfo, returnurl, resulturl, authemail, [phone, method,] status``
and ``hash``: SHA512 over the field values in message order (``hash`` excluded) followed by the
integration key, as uppercase hex. Replies are form-encoded too: ``status=Ok`` with ``browserurl``
or ``instructions``, ``pollurl`` and ``hash``; or ``status=Error`` with ``error``. Polling the
``pollurl`` answers ``reference, paynowreference, amount, status, pollurl, hash``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from flask import current_app

from webapp.integrations.providers.client import ProviderClient, ProviderError

PAID_STATUSES = frozenset({"paid", "awaiting delivery", "delivered"})
FAILED_STATUSES = frozenset({"failed", "disputed"})
CANCELLED_STATUSES = frozenset({"cancelled"})
REFUNDED_STATUSES = frozenset({"refunded"})
EXPRESS_METHODS = {"PAYNOW_ECOCASH": "ecocash", "PAYNOW_ONEMONEY": "onemoney", "PAYNOW_INNBUCKS": "innbucks"}


def make_hash(values: list[tuple[str, str]] | dict, key: str) -> str:
    items = values.items() if isinstance(values, dict) else values
    joined = "".join(str(v) for k, v in items if k.lower() != "hash")
    return hashlib.sha512((joined + key).encode("utf-8")).hexdigest().upper()


def verify_hash(values: list[tuple[str, str]] | dict, key: str) -> bool:
    items = list(values.items() if isinstance(values, dict) else values)
    given = next((v for k, v in items if k.lower() == "hash"), "")
    return bool(given) and hmac.compare_digest(given.upper(), make_hash(items, key))


def parse_reply(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text.strip(), keep_blank_values=True)


def format_amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def parse_amount(text: str) -> int | None:
    try:
        whole, _, frac = (text or "").strip().partition(".")
        return int(whole) * 100 + int((frac or "0").ljust(2, "0")[:2])
    except ValueError:
        return None


class PaynowError(Exception):
    """Paynow refused (``status=Error``) or answered something we cannot trust."""


@dataclass
class InitResult:
    browser_url: str | None
    poll_url: str
    instructions: str | None = None
    raw: dict = field(default_factory=dict)


@dataclass
class StatusResult:
    reference: str
    paynow_reference: str
    amount: int | None
    status: str  # Paynow's own word: Paid, Sent, Cancelled…
    poll_url: str

    @property
    def normalized(self) -> str:
        return self.status.strip().lower()


class PaynowClient:
    def __init__(self, *, integration_id=None, integration_key=None, base_url=None, org_id=None):
        config = current_app.config
        self.integration_id = str(integration_id or config["PAYNOW_INTEGRATION_ID"])
        self.integration_key = integration_key or config["PAYNOW_INTEGRATION_KEY"]
        self.base_url = (base_url or config["PAYNOW_BASE_URL"]).rstrip("/")
        self.org_id = org_id

    def _message(self, fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [*fields, ("hash", make_hash(fields, self.integration_key))]

    def _post(self, action: str, url: str, fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
        with ProviderClient("paynow", org_id=self.org_id) as http:
            response = http.request(
                action,
                "POST",
                url,
                retry=False,  # never initiate the same payment twice
                content=urlencode(self._message(fields)).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        return parse_reply(response.text)

    def _check(self, reply: list[tuple[str, str]]) -> dict:
        data = {k.lower(): v for k, v in reply}
        if data.get("status", "").lower() == "error":
            raise PaynowError(data.get("error") or "Paynow refused the transaction.")
        if data.get("status", "").lower() != "ok":
            raise PaynowError(f"Unexpected Paynow reply status {data.get('status')!r}.")
        if not verify_hash(reply, self.integration_key):
            raise PaynowError("Paynow's reply failed the hash check.")
        return data

    def _base_fields(self, reference, amount_cents, additional_info, return_url, result_url, auth_email):
        return [
            ("id", self.integration_id),
            ("reference", reference),
            ("amount", format_amount(amount_cents)),
            ("additionalinfo", additional_info),
            ("returnurl", return_url),
            ("resulturl", result_url),
            ("authemail", auth_email or ""),
        ]

    def initiate(
        self, *, reference, amount_cents, additional_info, return_url, result_url, auth_email=""
    ) -> InitResult:
        fields = self._base_fields(reference, amount_cents, additional_info, return_url, result_url, auth_email)
        fields.append(("status", "Message"))
        data = self._check(self._post("initiate_transaction", f"{self.base_url}/interface/initiatetransaction", fields))
        if not data.get("browserurl") or not data.get("pollurl"):
            raise PaynowError("Paynow's reply had no browser or poll URL.")
        return InitResult(data["browserurl"], data["pollurl"], raw=data)

    def remote(
        self, *, reference, amount_cents, additional_info, return_url, result_url, auth_email, phone, method
    ) -> InitResult:
        fields = self._base_fields(reference, amount_cents, additional_info, return_url, result_url, auth_email)
        fields += [("phone", phone), ("method", method), ("status", "Message")]
        data = self._check(self._post("remote_transaction", f"{self.base_url}/interface/remotetransaction", fields))
        if not data.get("pollurl"):
            raise PaynowError("Paynow's reply had no poll URL.")
        return InitResult(None, data["pollurl"], instructions=data.get("instructions"), raw=data)

    def poll(self, poll_url: str) -> StatusResult:
        if not poll_url.startswith(self.base_url + "/"):
            raise PaynowError("That poll URL is not Paynow's.")
        with ProviderClient("paynow", org_id=self.org_id) as http:
            response = http.request("poll_transaction", "POST", poll_url, retry=True)
        reply = parse_reply(response.text)
        data = {k.lower(): v for k, v in reply}
        if data.get("status", "").lower() == "error":
            raise PaynowError(data.get("error") or "Paynow could not find the transaction.")
        if not verify_hash(reply, self.integration_key):
            raise PaynowError("Paynow's status reply failed the hash check.")
        return StatusResult(
            data.get("reference", ""),
            data.get("paynowreference", ""),
            parse_amount(data.get("amount", "")),
            data.get("status", ""),
            data.get("pollurl", poll_url),
        )


__all__ = ["PaynowClient", "PaynowError", "ProviderError", "make_hash", "verify_hash"]
