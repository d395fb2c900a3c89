"""API keys (/o/<slug>/api-keys) and the JSON API (/api/v1/…, /api/v1/openapi.json, /api/docs)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/o/<slug>/api-keys")
public_bp = Blueprint("api_v1", __name__, url_prefix="/api")


def init_app(app):
    from webapp.api.services import forget_all_cached
    from webapp.core.registry import add_once
    from webapp.extensions import csrf
    from webapp.orgs.dashboard import nav_item
    from webapp.orgs.suspension import SUSPENSION_CHANGED_HOOKS

    # this process at once; others within the key cache's few seconds
    add_once(SUSPENSION_CHANGED_HOOKS, forget_all_cached)

    csrf.exempt(public_bp)  # Bearer-key API: no cookies, so no CSRF
    nav_item("API keys", "api.keys", "api", order=45)


from webapp.api import routes, v1  # noqa: E402,F401
from webapp.developers import api as _events_api  # noqa: E402,F401 (GET /api/v1/events on this blueprint)
