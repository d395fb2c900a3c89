"""Building a second app in a test (another config: no Redis, a dead database, production mode).

``create_app`` runs every domain's ``init_app`` again, and some of those append to module-level
registries (sidebar entries, panels, hooks); the snapshot keeps the session app's pages unchanged.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from contextlib import contextmanager


def _registries() -> dict:
    saved = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("webapp") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if attr.startswith("__"):
                continue
            if type(value) in (list, dict, defaultdict):
                saved[(name, attr)] = (
                    value,
                    {k: list(v) for k, v in value.items()} if type(value) is defaultdict else value.copy(),
                )
    return saved


def _restore(saved: dict) -> None:
    for (_name, _attr), (value, copy) in saved.items():
        if isinstance(value, list):
            value[:] = copy
        else:
            value.clear()
            value.update(copy)


def make_app(config: dict):
    from webapp import create_app

    saved = _registries()
    try:
        return create_app(config)
    finally:
        _restore(saved)


def shared_config(app, *keys: str) -> dict:
    keys = keys or (
        "SQLALCHEMY_DATABASE_URI",
        "BASE_URL",
        "MAIL_SERVER",
        "MAIL_PORT",
        "LOGIN_LIMIT_PER_IP",
        "LOGIN_LIMIT_PER_ACCOUNT",
        "STORAGE_PATH",
    )
    return {key: app.config[key] for key in keys}


@contextmanager
def second_app(session_app, config: dict):
    """A second app for the length of a ``with``. The rate limiter is one module-level object whose
    storage the last ``init_app`` chose; on the way out it is bound to the session app's storage again."""
    from webapp.extensions import db, limiter

    other = make_app(config)
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
        limiter.init_app(session_app)
