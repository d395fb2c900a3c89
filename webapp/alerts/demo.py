"""Demo system alerts: one of each kind, one resolved."""

from __future__ import annotations

from sqlalchemy import select

from webapp.alerts.models import SystemAlert
from webapp.alerts.services import raise_alert, resolve
from webapp.auth.services import find_user_by_email
from webapp.demo import step
from webapp.extensions import db
from webapp.orgs.demo import STAFF_EMAIL


@step(order=80)
def system_alerts() -> None:
    if db.session.scalar(select(SystemAlert.id).limit(1)) is not None:
        return
    raise_alert("error", "provider:freee", "freee keeps answering errors", {"failed_calls": 14, "last_status": 503})
    raise_alert("warning", "queue:email", "The email queue is backing up", {"waiting": 812})
    raise_alert("error", "jobs:billing", "webapp.billing.jobs.run_billing failed after all retries")
    old = raise_alert("info", "mail", "Mail delivery recovered after a restart")
    staff = find_user_by_email(STAFF_EMAIL)
    if staff is not None:
        resolve(old, staff, "SMTP relay restarted")
