"""Every name Tessera gives to something in Redis starts with ``tessera:<instance>:``.

Two checkouts (or a test run and a demo) on one Redis database never touch each other's jobs,
rate-limit counters or live notifications: RQ queue names, the cron jobs, Flask-Limiter's keys,
the API counters, the alert bookkeeping and the pub/sub channels all go through ``key()``.

The instance is ``TESSERA_INSTANCE`` when set (letters, digits, ``_`` and ``-``), else derived from
the database: its name and 8 hex digits of a hash of its URL (without the password, the driver or
the query string), so every process of one deployment agrees on it without being told, and two
databases never share one.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePath

from flask import Flask, current_app
from sqlalchemy.engine import make_url

INSTANCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_UNSAFE = re.compile(r"[^a-z0-9_-]+")


def derive_instance(database_url: str) -> str:
    """``<database name>-<8 hex>`` for a SQLAlchemy URL."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    name = url.database or ""
    if backend == "sqlite":
        name = PurePath(name).stem if name else "memory"
    name = _UNSAFE.sub("-", name.lower()).strip("-")[:40] or "db"
    plain = f"{backend}://{url.username or ''}@{url.host or ''}:{url.port or ''}/{url.database or ''}"
    digest = hashlib.sha256(plain.encode()).hexdigest()[:8]
    return f"{name}-{digest}"


def init_app(app: Flask) -> None:
    """Settle the instance name once per app (a bad ``TESSERA_INSTANCE`` stops the start)."""
    from webapp.config import ConfigError

    explicit = (app.config.get("TESSERA_INSTANCE") or "").strip()
    if explicit and not INSTANCE_PATTERN.fullmatch(explicit):
        raise ConfigError("TESSERA_INSTANCE may hold only letters, digits, '_' and '-' (at most 64)")
    app.config["TESSERA_INSTANCE"] = explicit or derive_instance(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("RATELIMIT_KEY_PREFIX"):
        app.config["RATELIMIT_KEY_PREFIX"] = key(app=app)


def instance(app: Flask | None = None) -> str:
    return (app or current_app).config["TESSERA_INSTANCE"]


def key(*parts: str | int, app: Flask | None = None) -> str:
    """``tessera:<instance>:part:part…``; with no parts, the prefix itself (ending in ``:``)."""
    return f"tessera:{instance(app)}:" + ":".join(str(part) for part in parts)


def job_id(*parts: str | int, app: Flask | None = None) -> str:
    """An RQ job id in this instance's namespace (RQ allows only letters, digits, ``_`` and ``-``)."""
    return "-".join(["tessera", instance(app), *(str(part) for part in parts)])
