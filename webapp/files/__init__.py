"""Files: uploads with type checks, plan storage quota, virus scan, usage, signed downloads."""

from flask import Blueprint

bp = Blueprint("files", __name__, url_prefix="/o/<slug>/files")
# Avatars and logos, served to whoever may see them (not under one organization's address).
public_bp = Blueprint("branding", __name__)


def init_app(app):
    from webapp import storage
    from webapp.files.branding_routes import avatar, document_logo, picture_url
    from webapp.orgs.dashboard import nav_item

    storage.init_app(app)
    app.jinja_env.globals["picture_url"] = picture_url
    app.jinja_env.globals["avatar"] = avatar
    app.jinja_env.globals["document_logo"] = document_logo
    nav_item("Files", "files.index", "files", order=80)


from webapp.files import branding_routes, jobs, routes, usage  # noqa: E402,F401
