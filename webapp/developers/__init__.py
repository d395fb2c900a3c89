"""Developers: outbound webhooks (/o/<slug>/developers/webhooks) and the events they carry.

The events API (GET /api/v1/events) lives in ``webapp.developers.api`` on the API's blueprint.
"""

from flask import Blueprint

bp = Blueprint("developers", __name__, url_prefix="/o/<slug>/developers")


def init_app(app):
    from webapp.orgs.dashboard import nav_item

    nav_item("Webhooks", "developers.webhooks", "api", order=46)


from webapp.developers import catalog, jobs, routes  # noqa: E402,F401
