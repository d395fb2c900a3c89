"""Integrations: OAuth connections to outside systems, provider clients, sandboxes, call log."""

from flask import Blueprint

bp = Blueprint("integrations", __name__)


def init_app(app):
    from webapp.integrations import sandboxes

    sandboxes.init_app(app)


from webapp.integrations import models  # noqa: E402,F401
