"""Notifications: ``notify()`` for every domain, the bell with a live unread count, the list page,
per-type preferences, and the record of open live connections."""

from flask import Blueprint

from webapp.admin import staff_blueprint
from webapp.notifications import models  # noqa: F401  (the tables)
from webapp.notifications.services import notify, register_type

__all__ = ["notify", "register_type"]

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
admin_bp = staff_blueprint("notifications_admin", __name__, "/admin/live")


def init_app(app):
    from webapp.admin import admin_nav_item, console_count
    from webapp.notifications.live import open_count

    admin_nav_item("Live sessions", "notifications_admin.admin_index", order=85)
    console_count("live-sessions", "live session", "notifications_admin.admin_index", open_count, order=30)

    def bell_unread() -> int:
        from flask_login import current_user

        from webapp.notifications.services import unread_count

        return unread_count(current_user.id) if current_user.is_authenticated else 0

    app.jinja_env.globals["bell_unread"] = bell_unread


from webapp.notifications import jobs, routes, subscribers  # noqa: E402,F401
