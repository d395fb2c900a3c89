"""System alerts for staff: raised by failing jobs, providers, queues and mail; resolved in the console."""

from webapp.admin import staff_blueprint
from webapp.alerts import models  # noqa: F401  (the tables)
from webapp.alerts.models import ERROR
from webapp.alerts.services import open_counts, raise_alert

__all__ = ["raise_alert"]


def raise_error_alert(source: str, message: str, details: dict):
    return raise_alert(ERROR, source, message, details)


admin_bp = staff_blueprint("alerts_admin", __name__, "/admin/alerts")


def init_app(app):
    from webapp.admin import admin_nav_item, console_count
    from webapp.core import ratelimits

    ratelimits.alert_with(raise_error_alert)  # the limiter's fall back to memory is one
    admin_nav_item("System alerts", "alerts_admin.index", order=45)
    console_count("open-alerts", "open alert", "alerts_admin.index", lambda: sum(open_counts().values()), order=10)


from webapp.alerts import admin, jobs  # noqa: E402,F401
