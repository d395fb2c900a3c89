"""Organizations: the tenant, its members, roles and invitations, and the dashboard."""

from flask import Blueprint

bp = Blueprint("orgs", __name__)


def init_app(app):
    from webapp.core.registry import add_once
    from webapp.mail.services import DELIVERY_HOLDS
    from webapp.orgs.dashboard import nav_items
    from webapp.orgs.suspension import holds_email

    app.jinja_env.globals["org_nav_items"] = nav_items
    add_once(DELIVERY_HOLDS, holds_email)  # a suspended organization's billing e-mails wait


from webapp.orgs import routes  # noqa: E402,F401
