"""Raise, deduplicate, e-mail and resolve system alerts.

An alert is identified by (source, message): raising it again while it is unresolved counts another
occurrence on the same row. A critical alert e-mails every staff member, at most once per
(source, message) within ``alerts.email_window_minutes`` — not once per occurrence.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask_babel import lazy_gettext
from sqlalchemy import func, select

from webapp.alerts.models import CRITICAL, SEVERITIES, SystemAlert
from webapp.audit import record
from webapp.core.errors import DomainError, IllegalTransition
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.settings import define, get

define("alerts.email_window_minutes", int, 60, "A critical alert e-mails staff at most once in this window", minimum=1)
define("alerts.queue_backlog_threshold", int, 500, "Jobs waiting in one queue before an alert is raised", minimum=1)
define("alerts.provider_error_threshold", int, 10, "Failed calls to one provider in the scan window", minimum=1)
define("alerts.scan_window_minutes", int, 15, "How far back the alert scan looks at calls and e-mails", minimum=1)


def fingerprint(source: str, message: str) -> str:
    return hashlib.sha256(f"{source}\n{message}".encode()).hexdigest()


def raise_alert(severity: str, source: str, message: str, details: dict | None = None) -> SystemAlert:
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    source, message = source[:64], message[:2000]
    mark = fingerprint(source, message)
    alert = db.session.scalar(
        select(SystemAlert)
        .where(SystemAlert.fingerprint == mark, SystemAlert.resolved_at.is_(None))
        .order_by(SystemAlert.id.desc())
        .limit(1)
    )
    now = utcnow()
    if alert is None:
        alert = SystemAlert(severity=severity, source=source, message=message, fingerprint=mark, details=details or {})
        db.session.add(alert)
    else:
        alert.occurrences += 1
        alert.last_seen_at = now
        if SEVERITIES.index(severity) > SEVERITIES.index(alert.severity):
            alert.severity = severity
        if details:
            alert.details = {**(alert.details or {}), **details}
    db.session.flush()
    if alert.severity == CRITICAL:
        _email_staff_once(alert)
    return alert


def _email_staff_once(alert: SystemAlert) -> None:
    from flask import url_for

    from webapp.auth.models import User
    from webapp.mail import send_email

    since = utcnow() - timedelta(minutes=get("alerts.email_window_minutes"))
    already = db.session.scalar(
        select(func.count(SystemAlert.id)).where(
            SystemAlert.fingerprint == alert.fingerprint, SystemAlert.emailed_at >= since
        )
    )
    if already:
        return
    alert.emailed_at = utcnow()
    link = url_for("alerts_admin.index", _external=True)
    for user in db.session.scalars(select(User).where(User.is_staff.is_(True))):
        send_email(
            user.email,
            "alerts/critical",
            about=alert,
            subject=lazy_gettext(
                "[Tessera critical] %(source)s: %(message)s", source=alert.source, message=alert.message[:80]
            ),
            user=user,
            alert=alert,
            link=link,
        )


def resolve(alert: SystemAlert, staff, note: str = "") -> SystemAlert:
    if not getattr(staff, "is_staff", False):
        raise DomainError("Only staff can resolve alerts.", code="forbidden")
    if alert.resolved_at is not None:
        raise IllegalTransition("This alert is already resolved.")
    alert.resolved_at = utcnow()
    alert.resolved_by_id = staff.id
    alert.resolution_note = (note or "").strip()[:2000] or None
    record(staff, "alert.resolved", alert, {"source": alert.source})
    return alert


def open_counts() -> dict[str, int]:
    rows = db.session.execute(
        select(SystemAlert.severity, func.count(SystemAlert.id))
        .where(SystemAlert.resolved_at.is_(None))
        .group_by(SystemAlert.severity)
    ).all()
    return {severity: count for severity, count in rows}
