"""The staff console: blueprints behind one staff check, and the console's navigation.

Each domain adds its staff pages with ``staff_blueprint`` (in its own ``admin.py``) and an entry
with ``admin_nav_item``; the pages call that domain's services, never a second copy of a rule.
"""

from __future__ import annotations

from collections.abc import Callable
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
    """The console sidebar (every entry's page exists: ``missing_endpoints`` checks at start)."""
    from flask import request, url_for

    endpoint = request.endpoint if has_request_context() else None
    return [
        {"label": item.label, "url": url_for(item.endpoint), "active": item.is_active(endpoint)}
        for item in sorted(ADMIN_NAV, key=lambda i: (i.order, i.label))
    ]


@dataclass
class ConsoleCount:
    """A figure in the business view's first line ("3 open tickets"), linking to the page that lists them."""

    key: str  # data-figure on the link
    noun: str  # "open ticket": shown through the plural filter
    endpoint: str
    count: Callable[[], int]
    order: int


CONSOLE_COUNTS: list[ConsoleCount] = []
# The console pages a business-view figure links to, by name ("invoices": "billing_admin.invoices"),
# declared by the domain that owns the page; a figure whose page is not declared shows without a link.
CONSOLE_PAGES: dict[str, str] = {}
# Fill the business view's figures (``webapp.admin.figures.Figures``), each from its own domain's tables.
FIGURE_SOURCES: list[Callable] = []


def console_count(key: str, noun: str, endpoint: str, count: Callable[[], int], order: int = 50) -> None:
    from webapp.core.registry import put

    put(CONSOLE_COUNTS, ConsoleCount(key, noun, endpoint, count, order), key=lambda item: item.key)


def console_page(name: str, endpoint: str) -> None:
    CONSOLE_PAGES[name] = endpoint


def console_link(name: str, **values) -> str | None:
    """The URL of the console page declared as ``name``, or None when no domain declares one."""
    from flask import url_for

    endpoint = CONSOLE_PAGES.get(name)
    return url_for(endpoint, **values) if endpoint else None


def console_endpoints() -> list[str]:
    """Every endpoint the console links to (checked at start: ``webapp.core.links``)."""
    return [i.endpoint for i in ADMIN_NAV] + [c.endpoint for c in CONSOLE_COUNTS] + list(CONSOLE_PAGES.values())


def init_app(app):
    from webapp.core.links import LINKED_ENDPOINTS
    from webapp.core.registry import add_once
    from webapp.mail.services import about_link

    add_once(LINKED_ENDPOINTS, console_endpoints)
    console_page("organizations", "admin.orgs")

    app.jinja_env.globals["admin_nav_items"] = admin_nav_items
    app.jinja_env.globals["email_about"] = about_link


bp = staff_blueprint("admin", __name__, "/admin")

from webapp.admin import dashboard, routes  # noqa: E402,F401
