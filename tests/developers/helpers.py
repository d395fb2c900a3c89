from __future__ import annotations

import pytest
from flask import g, has_app_context

from tests.developers.receiver import Receiver
from tests.outbound_helpers import allow_internal_hosts
from webapp.developers import services
from webapp.developers.catalog import TYPES
from webapp.extensions import db


@pytest.fixture
def receiver(app):
    allow_internal_hosts(app, "127.0.0.1")
    if has_app_context():
        g.pop("tessera_settings", None)
    r = Receiver()
    yield r
    r.close()


def endpoint_for(org, owner, url, types=TYPES, ordered=False):
    endpoint, secret = services.create_endpoint(org, owner, url, list(types), ordered)
    db.session.commit()
    return endpoint, secret


def set_setting(key, value):
    from webapp.settings.services import update_setting

    update_setting(key, str(value), None)
    db.session.commit()
    g.pop("tessera_settings", None)
