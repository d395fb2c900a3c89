"""Staff payout queue: approve, mark processing, complete with a transaction id, fail with a reason."""

from flask import request, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.core.htmx import render
from webapp.core.pagination import paginate
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.referrals import admin_bp
from webapp.referrals import services as referrals
from webapp.referrals.forms import CompleteForm, FailForm
from webapp.referrals.models import ReferralPayout

STATUSES = ("PENDING", "APPROVED", "PROCESSING", "COMPLETED", "FAILED", "CANCELED")


@admin_bp.get("/")
def payouts():
    shown = request.args.get("status", "open")
    stmt = select(ReferralPayout).order_by(ReferralPayout.id.desc())
    if shown == "open":
        stmt = stmt.where(ReferralPayout.status.in_(("PENDING", "APPROVED", "PROCESSING")))
    elif shown in STATUSES:
        stmt = stmt.where(ReferralPayout.status == shown)
    page = paginate(stmt, request.args.get("page", 1, type=int))
    return render(
        "referrals/admin_payouts.html",
        page=page,
        shown=shown,
        statuses=STATUSES,
        complete_form=CompleteForm(),
        fail_form=FailForm(),
    )


def _step(payout_id: int, action, *args):
    def step():
        payout = db.session.get(ReferralPayout, payout_id, with_for_update=True, populate_existing=True) or _missing()
        action(payout, current_user.user, *args)
        return payout

    # The row is locked inside the action: a second staff member's click waits, then is refused by the
    # payout's own state ("already completed"), or gets the lost-race flash; never a 500.
    return perform(
        step,
        then=url_for("referrals_admin.payouts"),
        success=lambda payout: f"Payout #{payout.id} is {payout.status.lower()}.",
    )


def _missing():
    from flask import abort

    abort(404)


@admin_bp.post("/payouts/<int:payout_id>/approve")
def approve(payout_id):
    return _step(payout_id, referrals.approve_payout)


@admin_bp.post("/payouts/<int:payout_id>/processing")
def processing(payout_id):
    return _step(payout_id, referrals.mark_processing)


@admin_bp.post("/payouts/<int:payout_id>/complete")
def complete(payout_id):
    return _step(payout_id, referrals.complete_payout, request.form.get("transaction_id", ""))


@admin_bp.post("/payouts/<int:payout_id>/fail")
def fail(payout_id):
    return _step(payout_id, referrals.fail_payout, request.form.get("reason", ""))
