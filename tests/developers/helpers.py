from __future__ import annotations

from flask import g

from webapp.developers import services
from webapp.developers.catalog import TYPES
from webapp.extensions import db


def endpoint_for(org, owner, url, types=TYPES, ordered=False):
    endpoint, secret = services.create_endpoint(org, owner, url, list(types), ordered)
    db.session.commit()
    return endpoint, secret


def set_setting(key, value):
    from webapp.settings.services import update_setting

    update_setting(key, str(value), None)
    db.session.commit()
    g.pop("tessera_settings", None)
