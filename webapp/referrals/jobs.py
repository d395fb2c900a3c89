from webapp.jobs import job, periodic
from webapp.referrals.services import expire_invitations, purge_tracking


@periodic("17 3 * * *")
@job(queue="maintenance")
def purge_click_tracking() -> None:
    """Daily: erase click IP addresses and user agents past the retention setting."""
    from webapp.audit import record

    erased = purge_tracking()
    if erased:
        record(None, "referral.tracking_purged", None, {"clicks": erased})


@periodic("21 3 * * *")
@job(queue="maintenance")
def expire_unanswered_invitations() -> None:
    """Daily: invitations unanswered after ``referrals.invitation_days`` expire and free their address.
    Safe to run twice: only PENDING rows move, so a second run finds none."""
    from webapp.audit import record

    expired = expire_invitations()
    if expired:
        record(None, "referral.invitations_expired", None, {"referrals": len(expired), "referral_ids": expired[:100]})
