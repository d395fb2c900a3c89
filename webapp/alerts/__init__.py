"""System alerts for staff: raised by failing jobs, providers, queues and mail; resolved in the console."""

from webapp.admin import staff_blueprint
from webapp.alerts import models  # noqa: F401  (the tables)
from webapp.alerts.services import raise_alert

__all__ = ["raise_alert"]

admin_bp = staff_blueprint("alerts_admin", __name__, "/admin/alerts")


def init_app(app):
    from webapp.admin import admin_nav_item

    admin_nav_item("System alerts", "alerts_admin.index", order=45)


from webapp.alerts import admin, jobs  # noqa: E402,F401
