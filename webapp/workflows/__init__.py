"""Workflows: a trigger and ordered steps, stored credentials, live execution logs, a templates marketplace."""

from flask import Blueprint

from webapp.admin import staff_blueprint

bp = Blueprint("workflows", __name__, url_prefix="/o/<slug>/workflows")
admin_bp = staff_blueprint("workflows_admin", __name__, "/admin")
public_bp = Blueprint("workflows_public", __name__)


def init_app(app):
    from webapp.admin import admin_nav_item
    from webapp.extensions import csrf, limiter
    from webapp.orgs.dashboard import nav_item

    csrf.exempt(public_bp)  # callers of an inbound webhook have no browser session
    limiter.limit("120/minute")(public_bp)
    nav_item("Workflows", "workflows.index", "workflows", order=60)
    admin_nav_item("Workflow templates", "workflows_admin.templates", order=60)
    admin_nav_item("Workflow invoice lines", "workflows_admin.lines", order=61)
    from webapp.billing.services import BILLING_RUN_BATCH_SOURCES
    from webapp.core.registry import add_once
    from webapp.core.terms import N_
    from webapp.notifications.services import register_type
    from webapp.workflows.bridges import approved_lines_for_billing_batch

    # One call per batch of accounts (one query), not one per account.
    add_once(BILLING_RUN_BATCH_SOURCES, approved_lines_for_billing_batch)
    register_type("workflow.notice", N_("Messages from workflows"))


from webapp.workflows import (  # noqa: E402,F401
    admin,
    events,
    jobs,
    models,
    panel,
    routes,
    webhooks,
)
