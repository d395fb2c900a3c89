"""The staff console: one blueprint behind one staff check."""

from flask import Blueprint, abort
from flask_login import current_user

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_staff():
    if not current_user.is_authenticated:
        from webapp.extensions import login_manager

        return login_manager.unauthorized()
    if not current_user.is_staff:
        abort(404)  # the console does not exist for customers


from webapp.admin import routes  # noqa: E402,F401
