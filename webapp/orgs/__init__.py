"""Organizations: the tenant, its members, roles and invitations, and the dashboard."""

from flask import Blueprint

bp = Blueprint("orgs", __name__)


def init_app(app):
    from webapp.orgs.dashboard import nav_items

    app.jinja_env.globals["org_nav_items"] = nav_items


from webapp.orgs import routes  # noqa: E402,F401
