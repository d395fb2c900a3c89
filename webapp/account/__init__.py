"""The signed-in user's own account: profile, password, second factor, sessions."""

from flask import Blueprint

bp = Blueprint("account", __name__, url_prefix="/account")

from webapp.account import routes  # noqa: E402,F401
