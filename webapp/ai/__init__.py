"""AI: an OpenAI-compatible provider, staff-managed prompt templates, and credits metered per request."""

from flask import Blueprint

from webapp.admin import staff_blueprint

bp = Blueprint("ai", __name__, url_prefix="/o/<slug>/ai")
admin_bp = staff_blueprint("ai_admin", __name__, "/admin")


def init_app(app):
    from webapp.admin import admin_nav_item
    from webapp.ai.services import release_open_answers
    from webapp.orgs.dashboard import nav_item

    app.teardown_request(release_open_answers)
    nav_item("AI", "ai.index", "ai", order=65)
    admin_nav_item("AI prompts", "ai_admin.prompts", order=65)
    admin_nav_item("AI credits", "ai_admin.credits", order=66)
    _report_usage_to_plan_limits()


def _report_usage_to_plan_limits() -> None:
    """The plan page shows how much of this period's AI grant is spent."""
    from webapp.subscriptions.limits import allowance_provider, usage_provider

    @usage_provider("ai_credits")
    def grant_spent(org) -> int:
        from webapp.ai.credits import credit_figures

        figures = credit_figures(org)
        return 0 if figures is None else figures["grant_used"]

    @allowance_provider("ai_credits")
    def period_grant(org) -> int | None:
        from webapp.ai.credits import credit_figures

        figures = credit_figures(org)
        return None if figures is None else figures["period_grant"]


from webapp.ai import (  # noqa: E402,F401
    admin,
    events,
    jobs,
    models,
    panel,
    results,
    routes,
    routes_documents,
    routes_projects,
    routes_workflows,
)
