"""One payout of the sweep's user, for the tenancy sweep of /o/<slug>/referrals/payouts/<payout_id>/…"""

from webapp.extensions import db
from webapp.referrals import services as referrals


def _payout_id(org, user):
    program = referrals.open_program(user)
    db.session.flush()
    program.total_earnings += 10000
    program.available_balance += 10000
    payout = referrals.request_payout(program, user, 6000, "PAYPAL", {"account_email": "sweep@example.com"})
    db.session.commit()
    return payout.id


SAMPLES = {"payout_id": _payout_id}
