"""The front door and the operators' probes."""

from flask import Blueprint

bp = Blueprint("core_pages", __name__)

from webapp.core_pages import routes  # noqa: E402,F401
