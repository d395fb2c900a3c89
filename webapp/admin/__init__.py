"""The staff console: blueprints behind one staff check, and the console's navigation.

Each domain adds its staff pages with ``staff_blueprint`` (in its own ``admin.py``) and an entry
with ``admin_nav_item``; the pages call that domain's services, never a second copy of a rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, has_request_context
from flask_login import current_user


def require_staff():
    if not current_user.is_authenticated:
        from webapp.extensions import login_manager

        return login_manager.unauthorized()
    if not current_user.is_staff:
        abort(404)  # the console does not exist for customers
    return None


class StaffBlueprint(Blueprint):
    """A blueprint the staff-only test finds by its ``staff_only`` mark."""

    staff_only = True


def staff_blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """A blueprint whose every route is staff-only (``url_prefix`` under ``/admin``)."""
    blueprint = StaffBlueprint(name, import_name, url_prefix=url_prefix)
    blueprint.before_request(require_staff)
    return blueprint


@dataclass
class AdminNavItem:
    label: str
    endpoint: str
    order: int

    def is_active(self, endpoint: str | None) -> bool:
        """The entry stays lit on its sub-pages: ``admin.users`` covers ``admin.users_detail``; another
        domain's entry covers every page of its own staff blueprint."""
        if not endpoint:
            return False
        if endpoint == self.endpoint or endpoint.startswith(self.endpoint + "_"):
            return True
        blueprint = self.endpoint.rsplit(".", 1)[0]
        return blueprint != "admin" and endpoint.startswith(blueprint + ".")


ADMIN_NAV: list[AdminNavItem] = []


def admin_nav_item(label: str, endpoint: str, order: int = 50) -> None:
    """A console sidebar entry. Safe to call more than once (e.g. from ``init_app`` in each test app)."""
    from webapp.core.registry import put

    put(ADMIN_NAV, AdminNavItem(label, endpoint, order), key=lambda item: item.endpoint)


def admin_nav_items() -> list[dict]:
    """The console sidebar. An entry whose page is not registered (a domain half-built) is left out
    rather than breaking every console page."""
    from flask import current_app, request, url_for
    from werkzeug.routing import BuildError

    endpoint = request.endpoint if has_request_context() else None
    items = []
    for item in sorted(ADMIN_NAV, key=lambda i: (i.order, i.label)):
        try:
            url = url_for(item.endpoint)
        except BuildError:
            current_app.logger.warning("admin nav: no page for %s", item.endpoint)
            continue
        items.append({"label": item.label, "url": url, "active": item.is_active(endpoint)})
    return items


def init_app(app):
    from webapp.mail.services import about_link

    app.jinja_env.globals["admin_nav_items"] = admin_nav_items
    app.jinja_env.globals["email_about"] = about_link


bp = staff_blueprint("admin", __name__, "/admin")

from webapp.admin import dashboard, routes  # noqa: E402,F401
