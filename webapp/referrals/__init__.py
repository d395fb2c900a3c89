"""Referral program: links, clicks, sign-ups, rewards on first payment, payouts processed by staff."""

from flask import Blueprint

from webapp.admin import staff_blueprint

bp = Blueprint("referrals", __name__, url_prefix="/o/<slug>/referrals")
public_bp = Blueprint("referrals_public", __name__)
admin_bp = staff_blueprint("referrals_admin", __name__, "/admin/referrals")


def init_app(app):
    from webapp.admin import admin_nav_item
    from webapp.orgs.dashboard import nav_item

    nav_item("Referrals", "referrals.index", "referrals", order=85)
    admin_nav_item("Referral payouts", "referrals_admin.payouts", order=60)


from webapp.referrals import admin, events, jobs, routes  # noqa: E402,F401
