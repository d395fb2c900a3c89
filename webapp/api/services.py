"""API keys: create (the key is returned once), revoke, authenticate cheaply, record last use cheaply."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import select, update

from webapp.api.models import SCOPES, ApiKey
from webapp.audit import record
from webapp.core.errors import DomainError
from webapp.core.models import utcnow
from webapp.core.transaction import side_write
from webapp.extensions import db
from webapp.jobs import namespace

log = logging.getLogger(__name__)

KEY_PREFIX = "tsk_"
AUTH_CACHE_SECONDS = 5.0  # a revoked key stops working in other processes within this time


def last_used_key() -> str:
    """The Redis hash of keys' last-use times, in this instance's namespace."""
    return namespace.key("api", "last_used")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(org, actor, name: str, scopes: list[str], rate_limit: int, expires_at: datetime | None):
    """Returns (ApiKey, plain key). The plain key is never stored and never shown again."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the key a name.", field="name")
    scopes = [s for s in SCOPES if s in set(scopes or [])]
    if not scopes:
        raise DomainError("Choose at least one scope.", field="scopes")
    if not isinstance(rate_limit, int) or not 1 <= rate_limit <= 1_000_000:
        raise DomainError("The hourly limit is 1 to 1,000,000 requests.", field="rate_limit")
    if expires_at is not None and expires_at <= utcnow():
        raise DomainError("The expiry must be in the future.", field="expires_at")
    prefix = secrets.token_hex(4)
    plain = f"{KEY_PREFIX}{prefix}{secrets.token_urlsafe(32)}"
    key = ApiKey(
        organization_id=org.id,
        created_by_id=getattr(actor, "id", None),
        name=name[:80],
        key_hash=hash_key(plain),
        key_prefix=prefix,
        scopes=scopes,
        rate_limit=rate_limit,
        expires_at=expires_at,
    )
    db.session.add(key)
    record(actor, "api_key.created", key, {"name": key.name, "prefix": prefix, "scopes": scopes}, org=org)
    return key, plain


def revoke_key(key: ApiKey, actor) -> None:
    if key.revoked_at is not None:
        raise DomainError("That key is already revoked.")
    key.revoked_at = utcnow()
    forget_cached(key.key_hash)
    record(actor, "api_key.revoked", key, {"prefix": key.key_prefix})


# ------------------------------------------------------------------ authentication (hot path)


@dataclass(frozen=True)
class KeyInfo:
    """What a request needs to know about its key, cached per process for a few seconds."""

    id: int
    organization_id: int
    scopes: frozenset
    rate_limit: int
    expires_at: datetime | None
    api_calls_allowed: int | None
    account_suspended: bool
    organization_suspended: bool = False


_cache: dict[str, tuple[float, KeyInfo | None]] = {}
_cache_lock = threading.Lock()


def forget_cached(key_hash: str | None = None) -> None:
    with _cache_lock:
        if key_hash is None:
            _cache.clear()
        else:
            _cache.pop(key_hash, None)


def forget_all_cached(org=None) -> None:
    """An organization's suspension began or ended: its keys answer differently now."""
    forget_cached()


def _load(key_hash: str) -> KeyInfo | None:
    from webapp.orgs.models import Organization
    from webapp.subscriptions.services import current_subscription

    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))
    if key is None or key.revoked_at is not None:
        return None
    org = db.session.get(Organization, key.organization_id)
    if org is None or org.deleted_at is not None:
        return None
    sub = current_subscription(org)
    info = KeyInfo(
        id=key.id,
        organization_id=key.organization_id,
        scopes=frozenset(key.scopes or ()),
        rate_limit=key.rate_limit,
        expires_at=key.expires_at,
        api_calls_allowed=sub.limit("api_calls"),
        account_suspended=_account_suspended(org.id),
        organization_suspended=org.suspended_at is not None,
    )
    return info


def _account_suspended(org_id: int) -> bool:
    from webapp.billing.models import BillingAccount

    status = db.session.scalar(select(BillingAccount.status).where(BillingAccount.organization_id == org_id))
    return status == "SUSPENDED"


def authenticate(plain: str) -> KeyInfo | None:
    """The key's info, or None for an unknown/revoked key. Expiry is checked by the caller."""
    if not plain.startswith(KEY_PREFIX) or len(plain) > 200:
        return None
    digest = hash_key(plain)
    now = time.monotonic()
    cached = _cache.get(digest)
    if cached is not None and cached[0] > now:
        return cached[1]
    info = _load(digest)
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[digest] = (now + AUTH_CACHE_SECONDS, info)
    return info


# ------------------------------------------------------------------ last used, without a write per request

_last_written: dict[int, float] = {}


def touch_without_redis(key_id: int) -> None:
    """No Redis: one UPDATE at most once a minute per key and process."""
    now = time.monotonic()
    if now - _last_written.get(key_id, -1e9) < 60:
        return
    _last_written[key_id] = now
    with side_write("the API key's last-use stamp, without Redis") as connection:
        connection.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))


def flush_last_used(redis) -> int:
    """Copy the Redis last-used timestamps into the table (a periodic job)."""
    values = redis.hgetall(last_used_key())
    if not values:
        return 0
    for raw_id, raw_ts in values.items():
        when = datetime.fromtimestamp(float(raw_ts), UTC)
        db.session.execute(
            update(ApiKey)
            .where(ApiKey.id == int(raw_id))
            .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < when))
            .values(last_used_at=when)
        )
    # Delete only what we copied; a newer timestamp written meanwhile stays for the next run.
    pipe = redis.pipeline()
    for raw_id in values:
        pipe.hget(last_used_key(), raw_id)
    current = pipe.execute()
    stale = [raw_id for (raw_id, raw_ts), now_ts in zip(values.items(), current, strict=True) if now_ts == raw_ts]
    if stale:
        redis.hdel(last_used_key(), *stale)
    return len(values)


def last_used_map(redis, keys: list[ApiKey]) -> dict[int, datetime | None]:
    """Last use per key, including what Redis holds that the job has not copied yet."""
    result = {k.id: k.last_used_at for k in keys}
    if redis is None or not keys:
        return result
    try:
        raw = redis.hmget(last_used_key(), [str(k.id) for k in keys])
    except RedisError:  # the page still shows the times the database holds
        log.warning("API keys: Redis did not answer for the last-used times", exc_info=True)
        return result
    for key, value in zip(keys, raw, strict=True):
        if value:
            when = datetime.fromtimestamp(float(value), UTC)
            known = result[key.id]
            if known is None or when > known:
                result[key.id] = when
    return result


def parse_expiry(days: int | None) -> datetime | None:
    return None if not days else utcnow() + timedelta(days=days)
