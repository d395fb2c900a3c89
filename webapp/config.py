"""Settings from the environment, with safe development defaults.

Production (``TESSERA_ENV=production``) refuses to start with a generated or missing
secret key or encryption key; development writes both into the instance folder.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

MIN_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """Raised when the configuration is unsafe for the mode the app runs in."""


def _instance_secret(instance_path: str, name: str) -> str:
    path = Path(instance_path) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    env = os.environ
    mode = env.get("TESSERA_ENV", "development")
    production = mode == "production"
    overrides = overrides or {}

    secret_key = env.get("SECRET_KEY")
    encryption_key = env.get("ENCRYPTION_KEY")
    if production:
        if not secret_key or len(secret_key) < MIN_KEY_LENGTH:
            raise ConfigError("SECRET_KEY must be set to at least 32 characters in production")
        if not encryption_key or len(encryption_key) < MIN_KEY_LENGTH:
            raise ConfigError("ENCRYPTION_KEY must be set to at least 32 characters in production")
    secret_key = secret_key or _instance_secret(instance_path, "secret_key")
    encryption_key = encryption_key or _instance_secret(instance_path, "encryption_key")
    if len(encryption_key) < MIN_KEY_LENGTH:
        raise ConfigError("ENCRYPTION_KEY must be at least 32 characters")

    # Behind TLS (production, or SECURE_COOKIES=1): cookies only over HTTPS, and HSTS.
    secure = production or _bool(env.get("SECURE_COOKIES"))

    sqlite_path = Path(instance_path) / "tessera.sqlite3"
    database_url = env.get("DATABASE_URL", f"sqlite:///{sqlite_path}")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    redis_url = env.get("REDIS_URL", "redis://localhost:6379/0")
    base_url = (overrides.get("BASE_URL") or env.get("BASE_URL", "http://localhost:5000")).rstrip("/")
    base = urlsplit(base_url)
    # The built-in provider sandboxes run as their own process (webapp/integrations/sandboxes); every
    # provider URL below defaults to it. bin/run and the tests start it and set SANDBOX_URL.
    sandbox_url = (overrides.get("SANDBOX_URL") or env.get("SANDBOX_URL", "http://127.0.0.1:5001")).rstrip("/")

    config: dict[str, Any] = {
        "ENV_NAME": mode,
        "TESTING": False,
        "SECRET_KEY": secret_key,
        "ENCRYPTION_KEY": encryption_key,
        # Older keys still able to decrypt; `flask secrets rotate` moves everything to ENCRYPTION_KEY.
        "ENCRYPTION_OLD_KEYS": [k for k in env.get("ENCRYPTION_OLD_KEYS", "").split(",") if k],
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        # "rq" sends jobs to Redis; "inline" runs them in-process after the request commits.
        "JOBS_BACKEND": env.get("JOBS_BACKEND", "auto"),
        # Names this deployment's keys, queues and channels in Redis (tessera:<instance>:…); empty =
        # derived from the database (webapp/jobs/namespace.py), so two checkouts never share jobs.
        "TESSERA_INSTANCE": env.get("TESSERA_INSTANCE", ""),
        # /readyz says "degraded" once an outbox job has waited this long for Redis (webapp/jobs/outbox.py).
        "JOBS_OUTBOX_STALE_SECONDS": float(env.get("JOBS_OUTBOX_STALE_SECONDS", "5")),
        # The worker's outbox relay passes at least this often; a NOTIFY (webapp.jobs.outbox.channel) wakes it sooner.
        "JOBS_OUTBOX_RELAY_SECONDS": float(env.get("JOBS_OUTBOX_RELAY_SECONDS", "5")),
        "BASE_URL": base_url,
        # url_for works in jobs and e-mails too; Flask 3.1 no longer refuses other hosts for it.
        "SERVER_NAME": base.netloc,
        "PREFERRED_URL_SCHEME": base.scheme or "http",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
        # Strict-Transport-Security max-age in seconds; 0 sends no header (development over plain HTTP).
        "HSTS_MAX_AGE": int(env.get("HSTS_MAX_AGE", "31536000" if secure else "0")),
        # How many reverse proxies in front of the app append to X-Forwarded-For/-Proto. 0: the headers
        # are ignored and the connecting address is the client (a spoofed header changes nothing); n: the
        # n-th address from the right is the client, as each trusted proxy appends the one it saw.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        # A commit inside a request outside core.transaction.perform() raises (the tests turn this on).
        "STRICT_TRANSACTIONS": _bool(env.get("STRICT_TRANSACTIONS")),
        "SESSION_LIFETIME_DAYS": int(env.get("SESSION_LIFETIME_DAYS", "14")),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(512 * 1024 * 1024))),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", ""),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis unreachable: limits count in this process's memory until it answers again (/readyz says so).
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        # A Redis that stopped answering costs a request at most this long before the fallback takes over.
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        "LOGIN_LIMIT_PER_IP": env.get("LOGIN_LIMIT_PER_IP", "20/minute"),
        # Failed sign-in steps per account and source address; several windows make the wait grow.
        "LOGIN_LIMIT_PER_ACCOUNT": env.get("LOGIN_LIMIT_PER_ACCOUNT", "5/minute;20/hour;100/day"),
        "MAIL_SERVER": env.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(env.get("MAIL_PORT", "1025")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "Tessera <no-reply@tessera.local>"),
        "MAIL_TIMEOUT": float(env.get("MAIL_TIMEOUT", "10")),
        # Point the providers at the built-in sandboxes (in development, the demo and the tests).
        "SANDBOXES_ENABLED": _bool(env.get("SANDBOXES_ENABLED"), default=not production),
        "SANDBOX_URL": sandbox_url,
        # Virus scanning of uploads through clamd (INSTREAM over TCP); empty = not scanned, and said so.
        "CLAMD_HOST": env.get("CLAMD_HOST", ""),
        "CLAMD_PORT": int(env.get("CLAMD_PORT", "3310")),
        "STORAGE_PATH": env.get("STORAGE_PATH", str(Path(instance_path) / "storage")),
        # Any OpenAI-compatible chat-completions endpoint; the built-in sandbox by default.
        "AI_BASE_URL": env.get("AI_BASE_URL", sandbox_url + "/sandbox/ai/v1").rstrip("/"),
        "AI_API_KEY": env.get("AI_API_KEY", "sandbox-ai-key"),
        "AI_MODEL": env.get("AI_MODEL", "tessera-sandbox-1"),
    }
    # Integrations (docs/integrations.md): client credentials and URLs; by default the built-in sandboxes.
    sandbox = f"{sandbox_url}/sandbox"
    for prefix, defaults in {
        "FREEE": {
            "AUTHORIZE_URL": f"{sandbox}/freee/public_api/authorize",
            "TOKEN_URL": f"{sandbox}/freee/public_api/token",
            "REVOKE_URL": f"{sandbox}/freee/public_api/revoke",
            "API_URL": f"{sandbox}/freee",  # real: https://api.freee.co.jp (paths /api/1/…, /iv/…)
            "CLIENT_ID": "tessera-freee",
            "CLIENT_SECRET": "tessera-freee-sandbox-secret",
        },
        "GOOGLE": {
            "AUTHORIZE_URL": f"{sandbox}/google_drive/o/oauth2/v2/auth",
            "TOKEN_URL": f"{sandbox}/google_drive/token",
            "REVOKE_URL": f"{sandbox}/google_drive/revoke",
            "API_URL": f"{sandbox}/google_drive/drive/v3",
            "CLIENT_ID": "tessera-google",
            "CLIENT_SECRET": "tessera-google-sandbox-secret",
        },
    }.items():
        for key, default in defaults.items():
            config[f"{prefix}_{key}"] = env.get(f"{prefix}_{key}", default)
    # Studio: social platforms' endpoints (the built-in sandboxes unless configured). Client ids and
    # secrets: TIKTOK_CLIENT_ID/_SECRET (TikTok's client_key), INSTAGRAM_…, YOUTUBE_… from the environment.
    for name, real, sandbox_path in (
        ("TIKTOK_AUTHORIZE_URL", "https://www.tiktok.com/v2/auth/authorize/", "/tiktok/v2/auth/authorize/"),
        ("TIKTOK_TOKEN_URL", "https://open.tiktokapis.com/v2/oauth/token/", "/tiktok/v2/oauth/token/"),
        ("TIKTOK_REVOKE_URL", "https://open.tiktokapis.com/v2/oauth/revoke/", "/tiktok/v2/oauth/revoke/"),
        ("TIKTOK_API_URL", "https://open.tiktokapis.com", "/tiktok"),
        ("INSTAGRAM_AUTHORIZE_URL", "https://www.instagram.com/oauth/authorize", "/instagram/oauth/authorize"),
        ("INSTAGRAM_TOKEN_URL", "https://api.instagram.com/oauth/access_token", "/instagram/oauth/access_token"),
        ("INSTAGRAM_API_URL", "https://graph.instagram.com", "/instagram"),
        ("YOUTUBE_AUTHORIZE_URL", "https://accounts.google.com/o/oauth2/v2/auth", "/youtube/o/oauth2/v2/auth"),
        ("YOUTUBE_TOKEN_URL", "https://oauth2.googleapis.com/token", "/youtube/token"),
        ("YOUTUBE_REVOKE_URL", "https://oauth2.googleapis.com/revoke", "/youtube/revoke"),
        ("YOUTUBE_API_URL", "https://www.googleapis.com", "/youtube"),
    ):
        default = f"{sandbox}{sandbox_path}" if config["SANDBOXES_ENABLED"] else real
        config[name] = (overrides.get(name) or env.get(name) or default).rstrip("/") + (
            "/" if default.endswith("/") else ""
        )
    for name in ("TIKTOK", "INSTAGRAM", "YOUTUBE"):
        for key in ("CLIENT_ID", "CLIENT_SECRET"):
            config[f"{name}_{key}"] = env.get(f"{name}_{key}", "")
    config["STORAGE_BACKEND"] = env.get("STORAGE_BACKEND", "local")
    for name in ("S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION"):
        config[name] = env.get(name, "auto" if name == "S3_REGION" else "")
    # Paynow (docs/billing.md): the built-in sandbox unless PAYNOW_BASE_URL points at https://www.paynow.co.zw.
    config["PAYNOW_BASE_URL"] = (env.get("PAYNOW_BASE_URL") or f"{sandbox}/paynow").rstrip("/")
    # Stripe's API base: the sandbox unless STRIPE_API_BASE points at https://api.stripe.com.
    config["STRIPE_API_BASE"] = (env.get("STRIPE_API_BASE") or f"{sandbox}/stripe").rstrip("/")
    config["PAYNOW_INTEGRATION_ID"] = env.get("PAYNOW_INTEGRATION_ID", "1201")
    sandbox_key = "" if production else "tessera-paynow-sandbox-key"
    config["PAYNOW_INTEGRATION_KEY"] = env.get("PAYNOW_INTEGRATION_KEY", sandbox_key)
    config["PAYNOW_AUTH_EMAIL"] = env.get("PAYNOW_AUTH_EMAIL", "")
    # Stripe's keys (docs/billing.md): the sandbox process's in development, none in production.
    for key, sandbox_value in (
        ("STRIPE_SECRET_KEY", "sk_test_tessera_sandbox"),
        ("STRIPE_PUBLISHABLE_KEY", "pk_test_tessera_sandbox"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_tessera_sandbox"),
    ):
        config[key] = env.get(key, "" if production else sandbox_value)
    config.update(overrides)
    if config["TRUSTED_PROXIES"] < 0:
        raise ConfigError("TRUSTED_PROXIES is a number of proxies: 0 or more")
    # A form that answers with a redirect to a provider's page (Paynow's checkout, an OAuth consent
    # screen) must be allowed by the CSP's form-action, which covers redirects: allow those origins.
    if "CSP_FORM_ACTION_EXTRA" not in config:
        pages = [config["PAYNOW_BASE_URL"], *(v for k, v in config.items() if k.endswith("_AUTHORIZE_URL"))]
        # Stripe's hosted checkout and its 3-D Secure pages (the sandbox serves both from its API origin).
        stripe_pages = [config["STRIPE_API_BASE"]]
        if urlsplit(config["STRIPE_API_BASE"]).netloc == "api.stripe.com":
            stripe_pages = ["https://checkout.stripe.com", "https://hooks.stripe.com"]
        pages += stripe_pages
        origins = {f"{u.scheme}://{u.netloc}" for u in map(urlsplit, pages) if u.scheme in ("http", "https")}
        config["CSP_FORM_ACTION_EXTRA"] = " ".join(sorted(origins - {f"{base.scheme}://{base.netloc}"}))
    return config
