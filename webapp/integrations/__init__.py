"""Integrations: OAuth connections to outside systems, provider clients, call log,
freee accounting sync and Google Drive sync (docs/integrations.md)."""

from flask import Blueprint

from webapp.admin import staff_blueprint

bp = Blueprint("integrations", __name__, url_prefix="/o/<slug>/integrations")
admin_bp = staff_blueprint("integrations_admin", __name__, "/admin/calls")
public_bp = Blueprint("integrations_public", __name__)


def init_app(app):
    from webapp.admin import admin_nav_item
    from webapp.core.registry import add_once
    from webapp.integrations.call_log import record_call
    from webapp.integrations.jobs import resume_waiting_syncs
    from webapp.mail.jobs import log_calls_with
    from webapp.orgs.dashboard import nav_item
    from webapp.orgs.suspension import RESUME_HOOKS

    nav_item("Integrations", "integrations.index", "integrations", order=60)
    admin_nav_item("Outbound calls", "integrations_admin.calls", order=80)
    add_once(RESUME_HOOKS, resume_waiting_syncs)
    log_calls_with(record_call)  # SMTP attempts land in the outbound-call log


from webapp.integrations import admin, models, oauth, routes  # noqa: E402,F401
from webapp.integrations.providers import freee, google_drive  # noqa: E402,F401
