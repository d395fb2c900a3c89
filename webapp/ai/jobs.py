"""AI jobs: the plan grant of each organization, reset when its period ends."""

from __future__ import annotations

from sqlalchemy import select

from webapp.jobs import job, periodic


@periodic("*/15 * * * *")
@job(queue="maintenance", retries=1)
def reset_ai_credit_periods() -> int:
    from webapp.ai.credits import reset_period
    from webapp.ai.models import AiCreditBalance
    from webapp.core.models import utcnow
    from webapp.extensions import db
    from webapp.orgs.models import Organization

    now = utcnow()
    done = 0
    due = db.session.scalars(select(AiCreditBalance).where(AiCreditBalance.next_reset <= now).limit(1000)).all()
    for balance in due:
        org = db.session.get(Organization, balance.organization_id)
        if org is not None and reset_period(balance, org, now):
            done += 1
        db.session.commit()
    return done
