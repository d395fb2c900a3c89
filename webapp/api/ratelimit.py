"""Per-key hourly rate limit and the plan's monthly API-call allowance, in one Redis round trip.

Without Redis (the embedded first-run mode) the counters live in this process's memory; so they do
while a configured Redis is unreachable (asked again every ``RETRY_SECONDS``), and ``/readyz`` says so.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from flask import current_app
from redis.exceptions import RedisError

from webapp.api.services import last_used_key
from webapp.jobs.namespace import key as redis_key

log = logging.getLogger(__name__)

HOUR = 3600
MONTH_TTL = 40 * 86400
RETRY_SECONDS = 5

# KEYS: hourly counter, monthly org counter, last-used hash
# ARGV: hourly limit, monthly allowance ('' = unlimited), key id, now
_SCRIPT = """
local hourly = redis.call('INCR', KEYS[1])
if hourly == 1 then redis.call('EXPIRE', KEYS[1], 3700) end
if hourly > tonumber(ARGV[1]) then return {hourly, -1} end
local monthly = redis.call('INCR', KEYS[2])
if monthly == 1 then redis.call('EXPIRE', KEYS[2], 3456000) end
if ARGV[2] ~= '' and monthly > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[2])
  return {hourly, -2}
end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
return {hourly, monthly}
"""


@dataclass
class Decision:
    limit: int
    remaining: int
    reset: int  # seconds until the hourly window resets
    refused: str | None  # None, "rate_limited" or "plan_limit_exceeded"


def _month(now: float) -> str:
    return time.strftime("%Y%m", time.gmtime(now))


_memory: dict[str, int] = {}
_memory_lock = threading.Lock()
_unreachable_since: float | None = None  # when Redis last refused, while it still does
_next_try = 0.0


def _redis():
    """The Redis to count in, or None: none configured, or it refused within the last RETRY_SECONDS."""
    if current_app.extensions.get("tessera.jobs_backend") != "rq":
        return None
    if _unreachable_since is not None and time.monotonic() < _next_try:
        return None
    return current_app.extensions["tessera.redis"]


def _refused(error: RedisError) -> None:
    global _unreachable_since, _next_try
    with _memory_lock:
        if _unreachable_since is None:
            _unreachable_since = time.monotonic()
            log.warning("API rate limits count in memory: Redis refused (%s)", type(error).__name__)
        _next_try = time.monotonic() + RETRY_SECONDS


def _answered() -> None:
    global _unreachable_since
    if _unreachable_since is not None:
        with _memory_lock:
            _unreachable_since = None
        log.info("API rate limits count in Redis again")


def redis_unreachable() -> bool:
    """Is a configured Redis refusing, so that the API's limits count in this process's memory?"""
    return _unreachable_since is not None


def _script(redis):
    script = current_app.extensions.get("tessera.api_ratelimit_script")
    if script is None:
        script = current_app.extensions["tessera.api_ratelimit_script"] = redis.register_script(_SCRIPT)
    return script


def hit(key_id: int, org_id: int, hourly_limit: int, monthly_allowance: int | None) -> Decision:
    now = time.time()
    window = int(now // HOUR)
    reset = int((window + 1) * HOUR - now) or 1
    hourly_key = redis_key("api", "rl", key_id, window)
    monthly_key = redis_key("api", "calls", org_id, _month(now))
    redis = _redis()
    if redis is not None:
        try:
            hourly, monthly = _script(redis)(
                keys=[hourly_key, monthly_key, last_used_key()],
                args=[hourly_limit, "" if monthly_allowance is None else monthly_allowance, key_id, f"{now:.3f}"],
            )
            _answered()
        except RedisError as error:
            _refused(error)
            redis = None
    if redis is None:
        from webapp.api.services import touch_without_redis

        with _memory_lock:
            hourly = _memory[hourly_key] = _memory.get(hourly_key, 0) + 1
            monthly = -1
            if hourly <= hourly_limit:
                monthly = _memory.get(monthly_key, 0) + 1
                if monthly_allowance is not None and monthly > monthly_allowance:
                    monthly = -2
                else:
                    _memory[monthly_key] = monthly
        if monthly >= 0:
            touch_without_redis(key_id)
    refused = {-1: "rate_limited", -2: "plan_limit_exceeded"}.get(monthly)
    return Decision(hourly_limit, max(0, hourly_limit - hourly), reset, refused)


def api_calls_this_month(org_id: int) -> int:
    key = redis_key("api", "calls", org_id, _month(time.time()))
    redis = _redis()
    if redis is not None:
        try:
            return int(redis.get(key) or 0)
        except RedisError as error:
            _refused(error)
    return _memory.get(key, 0)


def reset_memory() -> None:
    global _unreachable_since, _next_try
    with _memory_lock:
        _memory.clear()
        _unreachable_since, _next_try = None, 0.0
