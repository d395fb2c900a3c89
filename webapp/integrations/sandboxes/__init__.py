"""Built-in sandboxes of outside providers (DESIGN §3): their own small WSGI application, served by
their own process on their own port, with their own database (``SANDBOX_DATABASE_URL``).

A sandbox is the outside party: the product reaches it over real HTTP at ``SANDBOX_URL``, exactly as
it would reach the real service, and a sandbox that calls back (Paynow's result URL, webhooks)
reaches the product over HTTP at the URL the product gave it. The product never imports this
package; ``create_sandbox_app()`` is the sandbox process's entry point:

    gunicorn -c python:webapp.integrations.sandboxes._gunicorn 'webapp.integrations.sandboxes:create_sandbox_app()'

(one worker: the social-platform sandboxes keep their state in that process's memory).

Each module in this package whose name does not start with ``_`` defines a blueprint ``bp`` and is
mounted at ``/sandbox/<module name>/``; tables derive from ``_state.SandboxModel``.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from pathlib import Path

from flask import Flask, jsonify
from sqlalchemy import event

from webapp.config import _instance_secret

SANDBOXES: list[str] = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
ROOT = Path(__file__).resolve().parents[3]
IDENTITY = "tessera-sandboxes"


def sandbox_config(instance_path: str, overrides: dict | None = None) -> dict:
    """The sandbox process's settings. The merchant credentials (Paynow's integration id and key, the
    AI key) are read from the same variables as the product's, as a real provider knows them."""
    env = os.environ
    database_url = env.get("SANDBOX_DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'sandboxes.sqlite3'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    config = {
        "SECRET_KEY": env.get("SANDBOX_SECRET_KEY") or _instance_secret(instance_path, "sandbox_secret_key"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PAYNOW_INTEGRATION_ID": env.get("PAYNOW_INTEGRATION_ID", "1201"),
        "PAYNOW_INTEGRATION_KEY": env.get("PAYNOW_INTEGRATION_KEY", "tessera-paynow-sandbox-key"),
        "AI_API_KEY": env.get("AI_API_KEY", "sandbox-ai-key"),
        # Stripe: the merchant's secret key and webhook endpoint (URL and signing secret), as the
        # merchant would set them in Stripe's dashboard.
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", "sk_test_tessera_sandbox"),
        "STRIPE_WEBHOOK_SECRET": env.get("STRIPE_WEBHOOK_SECRET", "whsec_tessera_sandbox"),
        "STRIPE_WEBHOOK_URL": env.get("STRIPE_SANDBOX_WEBHOOK_URL")
        or env.get("BASE_URL", "http://localhost:5000").rstrip("/") + "/webhooks/stripe",
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(512 * 1024 * 1024))),
    }
    config.update(overrides or {})
    return config


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Several threads of the sandbox process write at once: wait for the lock instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def sandbox_tables():
    """Every sandbox table: ``SandboxModel``'s, plus any ``sandbox_*`` table a sandbox module declared
    on the product's base by mistake (``tests/integrations/test_sandbox_process.py`` flags those)."""
    from webapp.extensions import db
    from webapp.integrations.sandboxes._state import SandboxModel

    strays = [t for name, t in db.metadata.tables.items() if name.startswith("sandbox_")]
    return list(SandboxModel.metadata.sorted_tables) + strays


def _recreate_changed_tables(engine) -> None:
    """A sandbox table whose columns changed since its database was made is dropped and made again:
    sandbox state is disposable (seeded again on first use), and there are no sandbox migrations."""
    from sqlalchemy import inspect

    inspector = inspect(engine)
    existing = set(inspector.get_table_names())
    for table in sandbox_tables():
        if table.name in existing:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            if have != {c.name for c in table.columns}:
                table.drop(engine)


def create_sandbox_app(config: dict | None = None) -> Flask:
    from webapp.extensions import db
    from webapp.integrations.sandboxes import _social_kit

    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(sandbox_config(app.instance_path, config))
    db.init_app(app)
    for name in SANDBOXES:
        module = importlib.import_module(f"{__name__}.{name}")
        app.register_blueprint(module.bp, url_prefix=f"/sandbox/{name}")
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
            db.engine.dispose()
        _recreate_changed_tables(db.engine)
        for table in sandbox_tables():
            table.create(db.engine, checkfirst=True)

    @app.get("/_sandbox")
    def identity():
        """Who answers here: the demo and the tests check this before trusting the port."""
        return jsonify({"service": IDENTITY, "sandboxes": SANDBOXES, "pid": os.getpid()})

    @app.post("/_sandbox/reset")
    def reset():
        """Forget everything (tables emptied, in-memory state dropped): the tests call it between tests."""
        with db.engine.begin() as conn:
            for table in reversed(sandbox_tables()):
                conn.execute(table.delete())
        _social_kit.reset()
        for name in SANDBOXES:  # sandboxes that keep state in memory forget it too
            reset_memory = getattr(importlib.import_module(f"{__name__}.{name}"), "reset", None)
            if reset_memory is not None:
                reset_memory()
        return jsonify({"ok": True})

    return app
