"""Tenancy sweep: one API key in ``org`` for the ``<api_key_id>`` URL variable."""

from webapp.api import services
from webapp.extensions import db


def _api_key(org, user) -> int:
    key, _ = services.create_key(org, user, "sweep", ["usage:read"], 100, None)
    db.session.commit()
    return key.id


SAMPLES = {"api_key_id": _api_key}
