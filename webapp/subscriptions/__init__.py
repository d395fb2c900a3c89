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


def init_app(app):
    from webapp.admin import admin_nav_item
    from webapp.orgs.dashboard import nav_item
    from webapp.orgs.services import ORGANIZATION_CREATED_HOOKS
    from webapp.subscriptions.services import subscribe_new_organization

    if subscribe_new_organization not in ORGANIZATION_CREATED_HOOKS:
        ORGANIZATION_CREATED_HOOKS.append(subscribe_new_organization)
    nav_item("Subscription", "subscriptions.show", "billing", order=22)
    admin_nav_item("Plans", "subscriptions_admin.index", order=35)


from webapp.subscriptions import admin, events, limits, routes  # noqa: E402,F401
