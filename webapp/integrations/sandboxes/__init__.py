"""Built-in sandboxes of outside providers (DESIGN §3), mounted under ``/sandbox/<provider>/``
only when ``SANDBOXES_ENABLED`` (on in development and tests, off in production).

A sandbox is the outside party: our clients reach it over real HTTP, exactly as they would reach
the real service. Each module in this package defines a blueprint ``bp`` and is mounted at
``/sandbox/<module name>/``.
"""

from __future__ import annotations

import importlib
import pkgutil

from flask import Flask

SANDBOXES: list[str] = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def init_app(app: Flask) -> None:
    if not app.config["SANDBOXES_ENABLED"]:
        return
    from webapp.extensions import csrf, limiter

    for name in SANDBOXES:
        module = importlib.import_module(f"webapp.integrations.sandboxes.{name}")
        csrf.exempt(module.bp)  # providers' endpoints take no browser CSRF token
        limiter.exempt(module.bp)
        app.register_blueprint(module.bp, url_prefix=f"/sandbox/{name}")
