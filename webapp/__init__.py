"""Tessera: the operations console of a subscription business."""

from __future__ import annotations

import importlib
import logging
import os

from dotenv import load_dotenv
from flask import Flask

from webapp.config import load_config

# Each domain is a package with a blueprint ``bp``; models of every domain are imported here so
# that Alembic and the ORM see the whole schema.
DOMAINS = (
    "core_pages",
    "auth",
    "account",
    "orgs",
    "audit",
    "settings",
    "secrets",
    "mail",
    "admin",
    "notifications",
    "billing",
    "subscriptions",
    "usage",
    "api",
    "developers",
    "integrations",
    "projects",
    "studio",
    "support",
    "alerts",
    "workflows",
    "ai",
    "referrals",
    "files",
)


def create_app(config: dict | None = None) -> Flask:
    load_dotenv()
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(load_config(app.instance_path, config))
    if app.config["TRUSTED_PROXIES"] > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        # Client address and scheme only: the host is BASE_URL's, whatever a proxy forwards.
        # Flask documents wrapping wsgi_app this way; its types declare it a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # One line per outbound request is the call log's job (/admin/calls), not the terminal's.
    logging.getLogger("httpx").setLevel(logging.WARNING)

    from webapp import extensions
    from webapp.core import boundary, htmx, i18n, outage, ratelimits, security, templating, transaction  # noqa: F401 (commit guard)
    from webapp.jobs import namespace
    from webapp.jobs.runner import choose_backend

    namespace.init_app(app)
    boundary.init_app(app)  # first: its converter must exist before any rule, its hook runs before any other

    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=os.path.join(app.root_path, "..", "migrations"))
    extensions.csrf.init_app(app)
    extensions.login_manager.init_app(app)
    choose_backend(app)
    if not app.config["RATELIMIT_STORAGE_URI"]:
        backend = app.extensions["tessera.jobs_backend"]
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] if backend == "rq" else "memory://"
    # One limiter per process; the app being built names its keys (init_app keeps a prefix once set).
    extensions.limiter._key_prefix = app.config["RATELIMIT_KEY_PREFIX"]
    extensions.limiter.init_app(app)
    ratelimits.init_app(app)
    htmx.init_app(app)
    security.init_app(app)
    outage.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)

    for name in DOMAINS:
        module = importlib.import_module(f"webapp.{name}")
        for attr in ("bp", "admin_bp", "public_bp"):
            blueprint = getattr(module, attr, None)
            if blueprint is not None:
                app.register_blueprint(blueprint)
        if hasattr(module, "init_app"):
            module.init_app(app)

    from webapp import cli
    from webapp.core.links import check_links

    check_links(app)  # every link a table names (console, audit log) has its page
    cli.init_app(app)
    return app
