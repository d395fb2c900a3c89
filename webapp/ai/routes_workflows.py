"""Workflow optimization (/o/<slug>/ai/workflows/<id>/review): suggestions from the run history with the
AI's narrative, applied from the review page or the workflow editor. Owners and admins only, like
workflows."""

from __future__ import annotations

from flask import abort, url_for
from flask_login import current_user

from webapp.ai import bp, credits
from webapp.ai import workflow_review as review
from webapp.ai.forms import CsrfOnlyForm
from webapp.ai.models import AiReport
from webapp.ai.projects import latest_report
from webapp.core.access import can, org_object_or_404, org_view
from webapp.core.htmx import render
from webapp.core.transaction import perform


def _workflow(org, workflow_id):
    from webapp.workflows.models import Workflow

    workflow = org_object_or_404(Workflow, org, workflow_id)
    if not can("ai"):
        abort(403)
    return workflow


@bp.get("/workflows/<int:workflow_id>/review")
@org_view("workflows")
def workflow_review(org, workflow_id):
    workflow = _workflow(org, workflow_id)
    figures = review.run_figures(workflow)
    return render(
        "ai/workflow_review.html",
        org=org,
        workflow=workflow,
        figures=figures,
        suggestions=review.suggestions_for(workflow, figures),
        report=latest_report(org, AiReport.WORKFLOW, workflow.id),
        form=CsrfOnlyForm(),
        balance=credits.balance_of(org),
    )


@bp.post("/workflows/<int:workflow_id>/review")
@org_view("workflows")
def review_workflow(org, workflow_id):
    workflow = _workflow(org, workflow_id)
    here = url_for("ai.workflow_review", slug=org.slug, workflow_id=workflow.id)
    return perform(
        lambda: review.review_workflow(org, workflow, current_user.user),
        then=here,
        success=lambda report: f"Review written ({report.credits_used} credits).",
    )


@bp.post("/workflows/<int:workflow_id>/review/<int:report_id>/apply/<int:index>")
@org_view("workflows")
def apply_suggestion(org, workflow_id, report_id, index):
    workflow = _workflow(org, workflow_id)
    report = org_object_or_404(AiReport, org, report_id)
    if report.kind != AiReport.WORKFLOW or report.subject_id != workflow.id:
        abort(404)
    return perform(
        lambda: review.apply_suggestion(report, workflow, current_user.user, index),
        then=url_for("workflows.edit", slug=org.slug, workflow_id=workflow.id),
        success=lambda s: f"Applied to step {s['position']}: {s['kind'].replace('_', ' ')}.",
    )
