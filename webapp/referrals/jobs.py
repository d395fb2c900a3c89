from webapp.jobs import job, periodic
from webapp.referrals.services import purge_tracking


@periodic("17 3 * * *")
@job(queue="maintenance")
def purge_click_tracking() -> None:
    """Daily: erase click IP addresses and user agents past the retention setting."""
    from webapp.audit import record

    erased = purge_tracking()
    if erased:
        record(None, "referral.tracking_purged", None, {"clicks": erased})
