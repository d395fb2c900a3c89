"""Organizations: the tenant, its members, roles and invitations, and the dashboard."""

from flask import Blueprint

bp = Blueprint("orgs", __name__)


def init_app(app):
    from webapp.auth.services import create_workspaces_with
    from webapp.core.registry import add_once
    from webapp.mail.services import DELIVERY_HOLDS, read_by
    from webapp.orgs.dashboard import nav_items
    from webapp.orgs.services import create_personal_organization, reader_of
    from webapp.orgs.suspension import holds_email

    create_workspaces_with(create_personal_organization)  # sign-up makes the personal workspace
    read_by(reader_of)  # e-mails are written in their reader's language

    app.jinja_env.globals["org_nav_items"] = nav_items
    add_once(DELIVERY_HOLDS, holds_email)  # a suspended organization's billing e-mails wait


from webapp.orgs import routes  # noqa: E402,F401
