"""The staff console: blueprints behind one staff check, and the console's navigation.

Each domain adds its staff pages with ``staff_blueprint`` (in its own ``admin.py``) and an entry
with ``admin_nav_item``; the pages call that domain's services, never a second copy of a rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort
from flask_login import current_user


def require_staff():
    if not current_user.is_authenticated:
        from webapp.extensions import login_manager

        return login_manager.unauthorized()
    if not current_user.is_staff:
        abort(404)  # the console does not exist for customers
    return None


def staff_blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """A blueprint whose every route is staff-only (``url_prefix`` under ``/admin``)."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix)
    blueprint.before_request(require_staff)
    blueprint.staff_only = True
    return blueprint


@dataclass
class AdminNavItem:
    label: str
    endpoint: str
    order: int


ADMIN_NAV: list[AdminNavItem] = []


def admin_nav_item(label: str, endpoint: str, order: int = 50) -> None:
    ADMIN_NAV.append(AdminNavItem(label, endpoint, order))


def init_app(app):
    from flask import url_for

    app.jinja_env.globals["admin_nav_items"] = lambda: [
        {"label": i.label, "url": url_for(i.endpoint)} for i in sorted(ADMIN_NAV, key=lambda i: i.order)
    ]


bp = staff_blueprint("admin", __name__, "/admin")

from webapp.admin import dashboard, routes  # noqa: E402,F401
