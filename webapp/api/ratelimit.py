"""The API's limits: each key's own hourly limit, counted by Flask-Limiter, and the plan's monthly allowance.

The hourly limit is a Flask-Limiter limit like sign-in's, shared by every API endpoint, whose value is
the key's own ``rate_limit`` (a dynamic limit) and whose identity is the key: one fixed one-hour window
per key. Flask-Limiter decides where it counts: in Redis, or in this process's memory while Redis is
unreachable (``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``; it asks Redis again by itself), which ``/readyz``
reports. The plan's monthly allowance is a calendar-month count per organization, not a rate limit; it
and the keys' last-use times follow the limiter's decision: one Redis round trip while it counts in
Redis, this process's memory while it does not.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from flask import current_app, g
from flask_limiter import RateLimitExceeded
from redis.exceptions import RedisError

from webapp.api.services import last_used_key
from webapp.core.ratelimits import falling_back
from webapp.extensions import limiter
from webapp.jobs.namespace import key as redis_key

log = logging.getLogger(__name__)

MONTH_TTL = 40 * 86400
SCOPE = "api"  # one window per key across every endpoint

# KEYS: monthly org counter, last-used hash
# ARGV: monthly allowance ('' = unlimited), key id, now
_SCRIPT = """
local monthly = redis.call('INCR', KEYS[1])
if monthly == 1 then redis.call('EXPIRE', KEYS[1], 3456000) end
if ARGV[1] ~= '' and monthly > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return -1
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return monthly
"""


@dataclass
class Decision:
    limit: int
    remaining: int
    reset: int  # seconds until the key's hourly window resets
    refused: str | None  # None, "rate_limited" or "plan_limit_exceeded"


# ----------------------------------------------------------------------------- the hourly limit


def _key_limit() -> str:
    """The key's own limit; none before the key is known (Flask-Limiter also reads it before the view runs,
    and an exception here would count as a storage failure and switch it to memory)."""
    counted = g.get("api_rate_limit")
    return f"{counted[1]} per hour" if counted else ""


def _key_identity() -> str:
    counted = g.get("api_rate_limit")
    return f"key:{counted[0]}" if counted else ""


@limiter.shared_limit(_key_limit, scope=SCOPE, key_func=_key_identity)
def _count_against_key_limit() -> None:
    """Calling it is one hit on the key's hourly limit; past the limit Flask-Limiter raises RateLimitExceeded."""


def _hourly(key_id: int, hourly_limit: int) -> tuple[int, int, bool]:
    """(remaining, seconds to reset, refused) for one call in this request."""
    g.api_rate_limit = (key_id, hourly_limit)
    refused = False
    try:
        _count_against_key_limit()
    except RateLimitExceeded:
        refused = True
    counted = limiter.current_limit
    # The API answers with its own documented RateLimit-* headers; Flask-Limiter's X-RateLimit-* and a
    # Retry-After on every answer would contradict them.
    limiter.context.view_rate_limit = None
    if counted is None:  # the limiter is switched off
        return hourly_limit, 3600, False
    try:
        remaining, reset_at = counted.remaining, counted.reset_at
    except RedisError as error:  # Redis left between the hit and the read; the next call falls back
        log.warning("API rate limit window unreadable: %s", type(error).__name__)
        return (0 if refused else hourly_limit - 1), 3600, refused
    return max(0, remaining), max(1, int(reset_at - time.time())), refused


# ----------------------------------------------------------------------------- the monthly allowance

_memory: dict[str, int] = {}
_memory_lock = threading.Lock()


def _month(now: float) -> str:
    return time.strftime("%Y%m", time.gmtime(now))


def _redis():
    """The Redis the monthly counts live in, or None: none configured, or the limiter counts in memory."""
    if current_app.extensions.get("tessera.jobs_backend") != "rq" or falling_back():
        return None
    return current_app.extensions["tessera.redis"]


def _script(redis):
    script = current_app.extensions.get("tessera.api_allowance_script")
    if script is None:
        script = current_app.extensions["tessera.api_allowance_script"] = redis.register_script(_SCRIPT)
    return script


def _count_month(key_id: int, org_id: int, allowance: int | None, now: float) -> bool:
    """Count one call in the organization's month; False when the allowance is used up (not counted)."""
    monthly_key = redis_key("api", "calls", org_id, _month(now))
    redis = _redis()
    if redis is not None:
        try:
            args = ["" if allowance is None else allowance, key_id, f"{now:.3f}"]
            return _script(redis)(keys=[monthly_key, last_used_key()], args=args) >= 0
        except RedisError as error:
            log.warning("API allowance counted in memory: Redis refused (%s)", type(error).__name__)
    from webapp.api.services import touch_without_redis

    with _memory_lock:
        monthly = _memory.get(monthly_key, 0) + 1
        if allowance is not None and monthly > allowance:
            return False
        _memory[monthly_key] = monthly
    touch_without_redis(key_id)
    return True


def hit(key_id: int, org_id: int, hourly_limit: int, monthly_allowance: int | None) -> Decision:
    """Count one API call of this request: the key's hourly limit first, then the plan's month."""
    remaining, reset, rate_limited = _hourly(key_id, hourly_limit)
    refused = "rate_limited" if rate_limited else None
    if refused is None and not _count_month(key_id, org_id, monthly_allowance, time.time()):
        refused = "plan_limit_exceeded"
    return Decision(hourly_limit, remaining, reset, refused)


def api_calls_this_month(org_id: int) -> int:
    key = redis_key("api", "calls", org_id, _month(time.time()))
    redis = _redis()
    if redis is not None:
        try:
            return int(redis.get(key) or 0)
        except RedisError as error:
            log.warning("API allowance read from memory: Redis refused (%s)", type(error).__name__)
    return _memory.get(key, 0)


def reset_memory() -> None:
    with _memory_lock:
        _memory.clear()
