"""Registries filled by ``init_app`` stay single-entry however many apps are built."""

from __future__ import annotations

from tests.core.apps import _registries, _restore, shared_config
from webapp import create_app
from webapp.admin import ADMIN_NAV
from webapp.billing.services import BILLING_RUN_BATCH_SOURCES
from webapp.core.registry import add_once, put
from webapp.extensions import db, limiter
from webapp.orgs.dashboard import NAV, PANELS
from webapp.orgs.services import ORGANIZATION_CREATED_HOOKS


def test_add_once_and_put_keep_one_entry_per_item_and_key():
    hooks: list = []
    assert add_once(hooks, len) is len and add_once(hooks, len) is len
    assert hooks == [len]
    rows: list = [("a", 1), ("b", 2)]
    put(rows, ("a", 3), key=lambda row: row[0])
    put(rows, ("c", 4), key=lambda row: row[0])
    assert rows == [("a", 3), ("b", 2), ("c", 4)]  # replaced where it stood, new keys at the end


def test_building_another_app_registers_nothing_twice(app):
    before = [list(r) for r in (BILLING_RUN_BATCH_SOURCES, ORGANIZATION_CREATED_HOOKS, NAV, PANELS, ADMIN_NAV)]
    keys = ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "JOBS_BACKEND", "RATELIMIT_STORAGE_URI", "STORAGE_PATH")
    saved = _registries()
    try:
        other = create_app({"TESTING": True, **shared_config(app, *keys)})
        after = [list(r) for r in (BILLING_RUN_BATCH_SOURCES, ORGANIZATION_CREATED_HOOKS, NAV, PANELS, ADMIN_NAV)]
        with other.app_context():
            db.engine.dispose()
    finally:
        _restore(saved)
        limiter.init_app(app)  # the one module-level limiter back on the session app's storage
    assert [len(r) for r in after] == [len(r) for r in before]
    assert len({item.endpoint for item in NAV}) == len(NAV)
    assert len({item.endpoint for item in ADMIN_NAV}) == len(ADMIN_NAV)
    assert len(set(BILLING_RUN_BATCH_SOURCES)) == len(BILLING_RUN_BATCH_SOURCES) >= 2
