"""/admin/alerts: list, filter, resolve."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.alerts import admin_bp
from webapp.alerts import services as alerts
from webapp.alerts.models import SEVERITIES, SystemAlert
from webapp.core.htmx import render
from webapp.core.pagination import page_arg, paginate
from webapp.core.transaction import perform
from webapp.extensions import db


@admin_bp.get("/")
def index():
    severity = request.args.get("severity", "")
    state = request.args.get("state", "open")
    source = request.args.get("source", "").strip()
    stmt = select(SystemAlert)
    if severity in SEVERITIES:
        stmt = stmt.where(SystemAlert.severity == severity)
    if state == "open":
        stmt = stmt.where(SystemAlert.resolved_at.is_(None))
    elif state == "resolved":
        stmt = stmt.where(SystemAlert.resolved_at.is_not(None))
    if source:
        stmt = stmt.where(SystemAlert.source.startswith(source, autoescape=True))
    page = paginate(stmt.order_by(SystemAlert.id.desc()), page_arg(request.args.get("page")), 50)
    return render(
        "alerts/index.html",
        block="alert_list",
        page=page,
        severities=SEVERITIES,
        filters={"severity": severity, "state": state, "source": source},
        counts=alerts.open_counts(),
    )


@admin_bp.post("/<int:alert_id>/resolve")
def resolve(alert_id):
    alert = db.session.get(SystemAlert, alert_id)
    if alert is None:
        abort(404)
    return perform(
        lambda: alerts.resolve(alert, current_user.user, request.form.get("note", "")),
        then=request.referrer if _same_site(request.referrer) else url_for("alerts_admin.index"),
        success="Alert resolved.",
    )


def _same_site(url: str | None) -> bool:
    from urllib.parse import urlsplit

    if not url:
        return False
    parts = urlsplit(url)
    return parts.netloc == request.host and parts.path.startswith("/admin/alerts")
