"""Where rate limits count: Redis, or this process's memory while Redis is unreachable.

One limiter counts: Flask-Limiter (sign-in, sign-up, reset, public pages, and each API key's hourly
limit, ``webapp.api.ratelimit``), whose in-memory fallback is on (``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``)
and which goes back to Redis by itself when it answers; the API's monthly allowance follows it. While it
counts in memory the limits still hold, per process, and start again from zero: ``/readyz`` says
``degraded: in memory`` and the console gets one alert per outage and process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

log = logging.getLogger(__name__)

OK = "ok"
IN_MEMORY = "in memory (no Redis)"
DEGRADED = "degraded: in memory"
ALERT_SOURCE = "rate_limits"
ALERT_MESSAGE = "Rate limits degraded: in memory (Redis unreachable)"

_lock = threading.Lock()
_alerted = False


def _configured_in_memory() -> bool:
    return current_app.config["RATELIMIT_STORAGE_URI"].startswith("memory")


def falling_back() -> bool:
    """Does the limiter count in memory although Redis is configured?"""
    from webapp.extensions import limiter

    return limiter.initialized and limiter.limiter.storage is not limiter.storage


def state(*, probe: bool = False) -> str:
    """``ok``, ``in memory (no Redis)`` (the embedded mode, by design) or ``degraded: in memory``.
    ``probe`` also asks Redis now, so a readiness check sees an outage before any request has."""
    from webapp.extensions import limiter

    if falling_back():
        return DEGRADED
    if _configured_in_memory():
        return IN_MEMORY
    if probe and not limiter.storage.check():
        return DEGRADED
    return OK


# The console's alerts are a domain above this one: its ``init_app`` hands over how an error alert is
# raised (source, message, details), so the foundation does not import it.
_alert: Callable[[str, str, dict], Any] | None = None


def alert_with(raiser: Callable[[str, str, dict], Any]) -> None:
    global _alert
    _alert = raiser


def _raise_alert(app: Flask) -> None:
    from webapp.extensions import db

    if _alert is None:
        log.error("%s, and no alert domain to tell the console", ALERT_MESSAGE)
        return
    with app.app_context():
        try:
            _alert(ALERT_SOURCE, ALERT_MESSAGE, {"storage": app.config["RATELIMIT_STORAGE_URI"]})
            db.session.commit()
        except Exception:  # the database may be down too; the log line is all that is left
            log.exception("could not record the rate limit alert")
            db.session.rollback()
        finally:
            db.session.remove()


def notice() -> None:
    """After each request: the first request that finds the limiter counting in memory raises the alert
    (on its own thread and transaction, apart from the request's); recovering arms it again."""
    global _alerted
    degraded = falling_back()
    with _lock:
        if degraded == _alerted:
            return
        _alerted = degraded
    if degraded:
        log.warning("rate limits count in memory: Redis is unreachable")
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types its LocalProxy as Flask
        threading.Thread(target=_raise_alert, args=(app,), name="rate-limit-alert", daemon=True).start()
    else:
        log.info("rate limits count in Redis again")


def init_app(app: Flask) -> None:
    @app.after_request
    def _watch_rate_limits(response):
        notice()
        return response
