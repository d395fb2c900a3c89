"""Files: uploads with type checks, plan storage quota, virus scan, usage, signed downloads."""

from flask import Blueprint

bp = Blueprint("files", __name__, url_prefix="/o/<slug>/files")


def init_app(app):
    from webapp import storage
    from webapp.orgs.dashboard import nav_item

    storage.init_app(app)
    nav_item("Files", "files.index", "files", order=80)


from webapp.files import jobs, routes, usage  # noqa: E402,F401
