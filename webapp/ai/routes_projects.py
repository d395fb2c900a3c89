"""AI on projects: propose tasks from a goal and review them (/o/<slug>/ai/projects/<id>/tasks,
/o/<slug>/ai/proposals/<id>), and the project analysis (/o/<slug>/ai/projects/<id>/analysis).

Members use the AI where they may edit the project ("projects" and "ai"); the analysis is readable by
everyone who sees the project."""

from __future__ import annotations

from typing import Any

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from webapp.ai import bp, credits
from webapp.ai import projects as ai_projects
from webapp.ai.forms import CsrfOnlyForm, GoalForm
from webapp.ai.models import AiReport, AiTaskProposal
from webapp.core.access import can, org_object_or_404, org_view
from webapp.core.display import plural
from webapp.core.htmx import redirect, render
from webapp.core.parsing import int_or_none, parse_date
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.projects.models import Project


def _require_ai():
    if not can("ai"):
        abort(403)


def _goal_page(org, project, form, status=200):
    proposals = db.session.scalars(
        select(AiTaskProposal)
        .where(AiTaskProposal.organization_id == org.id, AiTaskProposal.project_id == project.id)
        .order_by(AiTaskProposal.id.desc())
        .limit(10)
    ).all()
    return render(
        "ai/project_tasks.html",
        org=org,
        project=project,
        form=form,
        proposals=proposals,
        balance=credits.balance_of(org),
        status=status,
    )


@bp.route("/projects/<int:project_id>/tasks", methods=["GET", "POST"])
@org_view("projects")
def project_tasks(org, project_id):
    project = org_object_or_404(Project, org, project_id)
    _require_ai()
    form = GoalForm()
    if request.method != "POST" or not form.validate_on_submit():
        return _goal_page(org, project, form, status=422 if request.method == "POST" else 200)
    return perform(
        lambda: ai_projects.propose_tasks(org, project, current_user.user, form.goal.data),
        then=lambda proposal: redirect(url_for("ai.proposal", slug=org.slug, proposal_id=proposal.id)),
        form=form,
        field="goal",
        failed=lambda _: _goal_page(org, project, form, status=422),
    )


def _proposal_page(org, proposal, form=None, rows=None, error=None, status=200):
    members = ai_projects.members_of(org)
    if rows is None:
        rows = [{**t, "keep": True, "due_date": ai_projects.due_date_of(t.get("due_in_days"))} for t in proposal.tasks]
    created: list[Any] = []
    if proposal.created_task_ids:
        from webapp.projects.models import Task

        created = list(
            db.session.scalars(
                select(Task).where(Task.organization_id == org.id, Task.id.in_(proposal.created_task_ids))
            ).all()
        )
    return render(
        "ai/proposal.html",
        org=org,
        proposal=proposal,
        project=proposal.project,
        rows=rows,
        members=members,
        created=created,
        form=form or CsrfOnlyForm(),
        error=error,
        status=status,
    )


def _proposal(org, proposal_id) -> AiTaskProposal:
    proposal = org_object_or_404(AiTaskProposal, org, proposal_id)
    _require_ai()
    return proposal


@bp.get("/proposals/<int:proposal_id>")
@org_view("projects")
def proposal(org, proposal_id):
    return _proposal_page(org, _proposal(org, proposal_id))


def _edited_rows(count: int) -> tuple[list[dict], str | None]:
    """The proposal as the person edited it: one row per proposed task, by index."""
    rows, problem = [], None
    for i in range(count):
        due_text = (request.form.get(f"due_{i}") or "").strip()
        due = None
        if due_text:
            try:
                due = parse_date(due_text)
            except ValueError as error:
                problem = problem or f"Task {i + 1}: {error}"
        rows.append(
            {
                "keep": request.form.get(f"keep_{i}") == "1",
                "title": (request.form.get(f"title_{i}") or "").strip()[:300],
                "description": (request.form.get(f"description_{i}") or "").strip()[:10_000],
                "due_date": due,
                "assignee_id": int_or_none(request.form.get(f"assignee_{i}")),
            }
        )
    return rows, problem


@bp.post("/proposals/<int:proposal_id>/accept")
@org_view("projects")
def accept_proposal(org, proposal_id):
    proposal = _proposal(org, proposal_id)
    form = CsrfOnlyForm()
    project_url = url_for("projects.show", slug=org.slug, project_id=proposal.project_id)
    if not form.validate_on_submit():
        return _proposal_page(org, proposal, form=form, status=422)
    if proposal.status != AiTaskProposal.PROPOSED:  # a second submit (or a reload of the POST): nothing again
        return perform(lambda: ai_projects.accept_proposal(proposal, current_user.user, []), then=project_url)
    rows, problem = _edited_rows(len(proposal.tasks))
    if problem:
        return _proposal_page(org, proposal, rows=rows, error=problem, status=422)
    return perform(
        lambda: ai_projects.accept_proposal(proposal, current_user.user, rows),
        then=project_url,
        success=lambda created: _("%(tasks)s created.", tasks=plural(len(created), "task")),
        failed=lambda error: _proposal_page(org, proposal, rows=rows, error=error.message, status=422),
    )


@bp.post("/proposals/<int:proposal_id>/discard")
@org_view("projects")
def discard_proposal(org, proposal_id):
    proposal = _proposal(org, proposal_id)
    back = url_for("ai.project_tasks", slug=org.slug, project_id=proposal.project_id)
    return perform(
        lambda: ai_projects.discard_proposal(proposal, current_user.user),
        then=back,
        success=_("Proposal discarded; no tasks were created."),
    )


# --- analysis -------------------------------------------------------------------------------------


def _analysis_page(org, project, status=200):
    return render(
        "ai/project_analysis.html",
        org=org,
        project=project,
        report=ai_projects.latest_report(org, AiReport.PROJECT, project.id),
        current=ai_projects.project_figures(project),
        form=CsrfOnlyForm(),
        balance=credits.balance_of(org),
        status=status,
    )


@bp.get("/projects/<int:project_id>/analysis")
@org_view("projects")
def project_analysis(org, project_id):
    return _analysis_page(org, org_object_or_404(Project, org, project_id))


@bp.post("/projects/<int:project_id>/analysis")
@org_view("projects")
def analyse_project(org, project_id):
    project = org_object_or_404(Project, org, project_id)
    _require_ai()
    here = url_for("ai.project_analysis", slug=org.slug, project_id=project.id)
    return perform(
        lambda: ai_projects.analyse_project(org, project, current_user.user),
        then=here,
        success=lambda report: _("Analysis written (%(credits)s credits).", credits=report.credits_used),
    )
