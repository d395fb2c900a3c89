"""Plans and subscriptions: catalog, trial, upgrade/downgrade with proration, renewal, limits."""

from flask import Blueprint

from webapp.admin import staff_blueprint
from webapp.settings import define

define(
    "subscriptions.trial_days",
    int,
    14,
    "Days of a trial started from the subscription page (0 = no trials)",
    minimum=0,
    maximum=365,
)
define(
    "subscriptions.new_org_trial_days",
    int,
    0,
    "Days of trial a new team organization starts with (0 = it starts on Free)",
    minimum=0,
    maximum=365,
)
define("subscriptions.trial_plan", str, "TEAM_STANDARD", "Plan a new organization's trial runs on")

bp = Blueprint("subscriptions", __name__, url_prefix="/o/<slug>/subscription")
admin_bp = staff_blueprint("subscriptions_admin", __name__, "/admin/plans")
coupons_admin_bp = staff_blueprint("coupons_admin", __name__, "/admin/coupons")


def init_app(app):
    from webapp.admin import FIGURE_SOURCES, admin_nav_item, console_page
    from webapp.core.registry import add_once
    from webapp.orgs.dashboard import nav_item
    from webapp.orgs.services import ORGANIZATION_CREATED_HOOKS
    from webapp.orgs.suspension import RESUME_HOOKS
    from webapp.subscriptions.figures import subscription_figures
    from webapp.subscriptions.services import restart_after_suspension, subscribe_new_organization

    if "coupons_admin" not in app.blueprints:
        app.register_blueprint(coupons_admin_bp)
    add_once(ORGANIZATION_CREATED_HOOKS, subscribe_new_organization)
    add_once(RESUME_HOOKS, restart_after_suspension)
    nav_item("Subscription", "subscriptions.show", "billing", order=22)
    admin_nav_item("Plans", "subscriptions_admin.index", order=35)
    admin_nav_item("Coupons", "coupons_admin.index", order=36)
    add_once(FIGURE_SOURCES, subscription_figures)
    console_page("subscriptions", "subscriptions_admin.index")


from webapp.subscriptions import admin, coupon_admin, coupon_models, events, limits, routes  # noqa: E402,F401
