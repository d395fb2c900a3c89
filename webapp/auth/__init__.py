"""Accounts: sign-up, e-mail verification, login/logout, password reset, sessions."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")


def init_app(app):
    from webapp.auth.services import load_session
    from webapp.extensions import login_manager

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_session)


from webapp.auth import routes  # noqa: E402,F401
