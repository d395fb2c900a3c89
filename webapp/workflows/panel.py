"""The workflows card on the organization dashboard."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.orgs.dashboard import panel
from webapp.workflows.models import Workflow, WorkflowRun


@panel("workflows/_panel.html", "workflows")
def workflows_panel(org) -> dict:
    since = utcnow() - timedelta(days=1)
    enabled = db.session.scalar(
        select(func.count(Workflow.id)).where(Workflow.organization_id == org.id, Workflow.enabled.is_(True))
    )
    counts = dict(
        db.session.execute(
            select(WorkflowRun.status, func.count(WorkflowRun.id))
            .where(WorkflowRun.organization_id == org.id, WorkflowRun.queued_at >= since)
            .group_by(WorkflowRun.status)
        ).all()
    )
    return {"enabled": enabled or 0, "succeeded": counts.get("SUCCEEDED", 0), "failed": counts.get("FAILED", 0)}
