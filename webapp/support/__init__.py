"""Support desk: customers' tickets, the staff queue, internal notes, response-time figures."""

from flask import Blueprint

from webapp.admin import staff_blueprint
from webapp.support import models  # noqa: F401  (the tables)

bp = Blueprint("support", __name__, url_prefix="/o/<slug>/support")
admin_bp = staff_blueprint("support_admin", __name__, "/admin/support")


def init_app(app):
    from webapp.admin import admin_nav_item, console_count
    from webapp.orgs.dashboard import nav_item
    from webapp.support.services import open_ticket_count

    nav_item("Support", "support.index", "support", order=80)
    admin_nav_item("Support queue", "support_admin.queue", order=40)
    console_count("open-tickets", "open ticket", "support_admin.queue", open_ticket_count, order=20)


from webapp.support import admin, jobs, routes  # noqa: E402,F401
