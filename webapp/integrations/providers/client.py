"""One wrapper for every call Tessera makes to a provider.

It times out, honours 429 ``Retry-After``, retries 5xx and network errors with backoff (only when
the caller says the request is safe to repeat), and writes one ``OutboundCall`` row per attempt:
organization, provider, action, endpoint (no query string), status, success, error, provider
request id, duration and small metadata — never tokens, never bodies.

The call log is written in its own short transaction so it survives a rollback of the caller's work.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from flask import current_app

from webapp.core.outbound import ssl_context
from webapp.integrations.call_log import record_call

log = logging.getLogger(__name__)
REQUEST_ID_HEADERS = (
    "X-Freee-Request-ID",
    "X-Request-Id",
    "X-Request-ID",
    "x-request-id",
    "X-Goog-Request-Id",
    "x-tt-logid",
    "Request-Id",
)


class ProviderError(Exception):
    """A provider call failed. ``kind``: network, timeout, rate_limited, server, client. Never holds secrets."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status_code: int | None = None,
        retry_after: float | None = None,
        payload=None,
    ):
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code
        self.retry_after = retry_after
        self.payload = payload  # parsed error body, for the caller to read codes like invalid_grant


@dataclass
class ProviderResponse:
    status_code: int
    headers: httpx.Headers
    content: bytes

    def json(self):
        import json

        return json.loads(self.content or b"null")

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def raise_for_status(self) -> None:
        """As on an httpx response, for a library that reads one (Authlib's OAuth client)."""
        if 200 <= self.status_code < 300:
            return
        kind = "rate_limited" if self.status_code == 429 else "server" if self.status_code >= 500 else "client"
        raise ProviderError(f"answered {self.status_code}", kind=kind, status_code=self.status_code)


def _endpoint(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"[:500]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class ProviderClient:
    """``ProviderClient("freee", org_id=…).request("partners_listed", "GET", url, …)``."""

    def __init__(
        self,
        provider: str,
        *,
        org_id: int | None = None,
        timeout: float | None = None,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_retry_after: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ):
        self.provider = provider
        self.org_id = org_id
        self.timeout = timeout or current_app.config.get("PROVIDER_TIMEOUT", 15.0)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self._http = httpx.Client(timeout=self.timeout, transport=transport, verify=ssl_context())

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(
        self,
        action: str,
        method: str,
        url: str,
        *,
        retry: bool = True,
        expect: tuple[int, ...] = (),
        metadata: dict | None = None,
        raise_for_status: bool = True,
        **kwargs,
    ) -> ProviderResponse:
        """Send one request. ``retry=False`` for calls that must never repeat (an irreversible step).

        Answers 2xx (and any status in ``expect``) as a ``ProviderResponse``; anything else raises
        ``ProviderError`` after retries. ``raise_for_status=False`` hands every answer back (an SDK
        that reads provider errors itself); the log still records a 4xx/5xx as a failure.
        """
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            response = None
            error: ProviderError | None = None
            try:
                response = self._http.request(method, url, **kwargs)
            except httpx.TimeoutException as exc:
                error = ProviderError(f"{self.provider} timed out ({type(exc).__name__})", kind="timeout")
            except httpx.TransportError as exc:
                error = ProviderError(f"{self.provider} unreachable ({type(exc).__name__})", kind="network")
            duration_ms = int((time.monotonic() - started) * 1000)

            if response is not None:
                ok = response.is_success or response.status_code in expect
                if not ok:
                    error = self._error_for(response)
            self._log(action, method, url, response, error, duration_ms, attempt, metadata)
            if response is not None and not raise_for_status:
                return ProviderResponse(response.status_code, response.headers, response.content)
            if error is None:
                if response is None:  # no exception means an answer: never, but then say so
                    raise ProviderError(f"{self.provider} gave no answer", kind="network")
                return ProviderResponse(response.status_code, response.headers, response.content)

            wait = self._wait_before_retry(error, attempt) if retry else None
            if wait is None:
                raise error
            time.sleep(wait)

    def _error_for(self, response: httpx.Response) -> ProviderError:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        status = response.status_code
        if status == 429:
            kind = "rate_limited"
        elif status >= 500:
            kind = "server"
        else:
            kind = "client"
        summary = _summarize(payload) or response.reason_phrase
        return ProviderError(
            f"{self.provider} answered {status}: {summary}",
            kind=kind,
            status_code=status,
            retry_after=_retry_after(response),
            payload=payload,
        )

    def _wait_before_retry(self, error: ProviderError, attempt: int) -> float | None:
        if attempt > self.max_retries:
            return None
        if error.kind == "rate_limited":
            if error.retry_after is not None and error.retry_after > self.max_retry_after:
                return None  # too long to wait inline; the job reschedules itself
            return error.retry_after if error.retry_after is not None else self.backoff * 2**attempt
        if error.kind in ("server", "network", "timeout"):
            return self.backoff * 2 ** (attempt - 1) * (0.5 + random.random())
        return None

    def _log(self, action, method, url, response, error, duration_ms, attempt, metadata) -> None:
        request_id = None
        if response is not None:
            request_id = next((response.headers[h] for h in REQUEST_ID_HEADERS if h in response.headers), None)
        record_call(
            organization_id=self.org_id,
            provider=self.provider,
            action=action,
            method=method,
            endpoint=_endpoint(url),
            status_code=response.status_code if response is not None else None,
            success=error is None,
            error=str(error) if error else None,
            provider_request_id=request_id,
            duration_ms=duration_ms,
            attempt=attempt,
            details=metadata,
        )


def _summarize(payload) -> str:
    """A short, secret-free description of an error body (OAuth error codes, freee's error list…)."""
    if not isinstance(payload, dict):
        return ""
    if "error" in payload:
        err = payload["error"]
        if isinstance(err, dict):
            return str(err.get("message") or err.get("code") or "")[:300]
        return f"{err}: {payload.get('error_description', '')}"[:300]
    if "errors" in payload and isinstance(payload["errors"], list):
        messages: list[str] = []
        for item in payload["errors"]:
            if isinstance(item, dict):
                messages.extend(item.get("messages") or [item.get("message", "")])
        return "; ".join(str(m) for m in messages)[:300]
    return str(payload.get("message", ""))[:300]
