"""AI on projects: tasks proposed from a goal (stored, reviewed, then created in one step) and a status
analysis whose figures Tessera computes from the project's tasks, beside the AI's narrative of them."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select, update

from webapp.ai import services as ai
from webapp.ai.models import AiReport, AiTaskProposal
from webapp.audit import record
from webapp.core.errors import Conflict, DomainError
from webapp.core.models import rowcount, utcnow
from webapp.core.terms import N_
from webapp.extensions import db
from webapp.settings import define, get

define(
    "ai.stalled_task_days", int, 7, "Days a task in progress may go unchanged before it counts as blocked", minimum=1
)

MAX_PROPOSED = 12


class ProposedTask(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=10_000)
    due_in_days: int | None = Field(default=None, ge=0, le=365)
    assignee: str = Field(default="", max_length=200)

    @field_validator("title", "description", "assignee", mode="before")
    @classmethod
    def _text(cls, value):
        if value is None:
            return ""
        return str(value).strip() if isinstance(value, str | int | float) else value


class ProposedTasks(BaseModel):
    tasks: list[ProposedTask] = Field(min_length=1, max_length=50)


def members_of(org) -> list:
    """(user id, display name) of every member, by name: who a task may be assigned to."""
    from webapp.orgs.models import Membership

    rows = db.session.scalars(select(Membership).where(Membership.organization_id == org.id)).all()
    return sorted(((m.user_id, m.user.display_name) for m in rows), key=lambda pair: pair[1].lower())


def _member_id(members: list, name: str) -> int | None:
    wanted = (name or "").strip().lower()
    return next((user_id for user_id, shown in members if wanted and shown.lower() == wanted), None)


def clean_tasks(org, tasks: list[ProposedTask]) -> list[dict]:
    members = members_of(org)
    return [
        {
            "title": t.title[:300],
            "description": t.description,
            "due_in_days": t.due_in_days,
            "assignee_id": _member_id(members, t.assignee),
        }
        for t in tasks[:MAX_PROPOSED]
    ]


def propose_tasks(org, project, actor, goal: str) -> AiTaskProposal:
    """Ask for tasks that reach ``goal``; the checked proposal is stored with its charge (one commit)."""
    goal = (goal or "").strip()
    if len(goal) < 10:
        raise DomainError(N_("Describe the goal in a sentence or two."), field="goal")
    names = ", ".join(name for _, name in members_of(org))
    answer = ai.ask(
        org,
        actor,
        "TASK_GENERATION",
        "project_tasks",
        {"project_name": project.name, "members": names, "goal": goal[:4000]},
        operation="project_tasks",
        json_mode=True,
    )
    proposal_tasks = clean_tasks(org, ai.parsed(answer, ProposedTasks).tasks)
    answer.charge()
    proposal = AiTaskProposal(
        organization_id=org.id,
        created_by_id=actor.id,
        project_id=project.id,
        goal=goal[:4000],
        tasks=proposal_tasks,
        usage_log_id=answer.usage_log_id,
    )
    db.session.add(proposal)
    db.session.flush()
    record(actor, "ai.tasks_proposed", proposal, {"project_id": project.id, "tasks": len(proposal_tasks)}, org=org)
    return proposal


def proposal_from_report(org, report: AiReport, project, actor) -> AiTaskProposal:
    """A document's suggested tasks, as a proposal for ``project`` to review (no second AI call)."""
    tasks = [ProposedTask.model_validate(t) for t in (report.details or {}).get("tasks") or []]
    if not tasks:
        raise DomainError(N_("The analysis found no tasks in this document."), field="project_id")
    proposal = AiTaskProposal(
        organization_id=report.organization_id,
        created_by_id=actor.id,
        project_id=project.id,
        goal=f"From the document “{report.title}”",
        tasks=clean_tasks(org, tasks),
        source_report_id=report.id,
    )
    db.session.add(proposal)
    db.session.flush()
    record(actor, "ai.tasks_proposed", proposal, {"project_id": project.id, "report_id": report.id})
    return proposal


def accept_proposal(proposal: AiTaskProposal, actor, rows: list[dict]) -> list:
    """Create the tasks kept (as edited) in one go; a second submit creates nothing.

    ``rows``: [{"keep", "title", "description", "due_date", "assignee_id"}], one per proposed task."""
    from webapp.projects import services as projects
    from webapp.projects.models import Task

    if proposal.status != AiTaskProposal.PROPOSED:
        raise Conflict(N_("These tasks were created already."), code="proposal_closed")
    kept = [row for row in rows if row.get("keep")]
    if not kept:
        raise DomainError(N_("Keep at least one task, or discard the proposal."))
    for number, row in enumerate(kept, 1):
        if not (row.get("title") or "").strip():
            raise DomainError(f"Task {number} needs a title.")
    claimed = rowcount(
        db.session.execute(
            update(AiTaskProposal)
            .where(AiTaskProposal.id == proposal.id, AiTaskProposal.status == AiTaskProposal.PROPOSED)
            .values(status=AiTaskProposal.ACCEPTED, accepted_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    )
    if claimed != 1:
        raise Conflict(N_("These tasks were created already."), code="proposal_closed")
    project = proposal.project
    created = []
    for row in kept:
        task = projects.create_task(project, actor, row["title"])
        projects.update_task(
            task,
            actor,
            title=row["title"],
            description=row.get("description") or "",
            status=Task.TODO,
            assignee_id=row.get("assignee_id"),
            due_date=row.get("due_date"),
        )
        created.append(task)
    db.session.flush()
    db.session.refresh(proposal)
    proposal.created_task_ids = [t.id for t in created]
    record(actor, "ai.tasks_accepted", proposal, {"created": len(created), "proposed": len(proposal.tasks)})
    return created


def discard_proposal(proposal: AiTaskProposal, actor) -> AiTaskProposal:
    if proposal.status != AiTaskProposal.PROPOSED:
        raise Conflict(N_("This proposal is closed already."), code="proposal_closed")
    proposal.status = AiTaskProposal.DISCARDED
    record(actor, "ai.tasks_discarded", proposal, {})
    return proposal


def due_date_of(offset: int | None, today: date | None = None) -> date | None:
    return None if offset is None else (today or utcnow().date()) + timedelta(days=offset)


# --- project analysis -------------------------------------------------------------------------------


def project_figures(project, today: date | None = None) -> dict:
    """What the analysis is about, computed from the project's tasks (never by the AI)."""
    from webapp.projects.models import Task

    today = today or utcnow().date()
    stalled_before = utcnow() - timedelta(days=get("ai.stalled_task_days"))
    tasks = list(project.tasks)
    open_tasks = [t for t in tasks if t.status != Task.DONE]
    overdue = [t for t in open_tasks if t.due_date is not None and t.due_date < today]
    stalled = [t for t in open_tasks if t.status == Task.DOING and t.updated_at < stalled_before]
    orphaned = [t for t in overdue if t.assignee_id is None]
    blocked = {t.id: t for t in stalled + orphaned}
    load: dict[str, dict] = {}
    for t in open_tasks:
        name = t.assignee.display_name if t.assignee else "Nobody"
        entry = load.setdefault(name, {"member": name, "open": 0, "overdue": 0})
        entry["open"] += 1
        entry["overdue"] += 1 if t in overdue else 0

    def brief(t, why: str = "") -> dict:
        return {
            "id": t.id,
            "title": t.title,
            "due": t.due_date.isoformat() if t.due_date else None,
            "assignee": t.assignee.display_name if t.assignee else None,
            "why": why,
        }

    return {
        "as_of": today.isoformat(),
        "total": len(tasks),
        "open": len(open_tasks),
        "done": len(tasks) - len(open_tasks),
        "overdue": [brief(t) for t in sorted(overdue, key=lambda t: t.due_date)],
        "blocked": [
            brief(t, "in progress, unchanged for a week or more" if t in stalled else "overdue and unassigned")
            for t in blocked.values()
        ],
        "load": sorted(load.values(), key=lambda e: (-e["open"], e["member"])),
    }


def figures_text(figures: dict) -> str:
    lines = [
        f"As of: {figures['as_of']}",
        f"Tasks: {figures['total']} ({figures['open']} open, {figures['done']} done)",
        f"Overdue: {len(figures['overdue'])}",
    ]
    lines += [f"- overdue: {t['title']} (due {t['due']}, {t['assignee'] or 'unassigned'})" for t in figures["overdue"]]
    lines.append(f"Blocked: {len(figures['blocked'])}")
    lines += [f"- blocked: {t['title']} ({t['why']})" for t in figures["blocked"]]
    lines += [f"Load {e['member']}: {e['open']} open, {e['overdue']} overdue" for e in figures["load"]]
    return "\n".join(lines[:80])


def analyse_project(org, project, actor) -> AiReport:
    figures = project_figures(project)
    answer = ai.ask(
        org,
        actor,
        "PROJECT_ANALYSIS",
        "project_summary",
        {"project_name": project.name, "figures": figures_text(figures)},
        operation="project_analysis",
    )
    report = narrated_report(org, actor, answer, AiReport.PROJECT, project.id, project.name, figures)
    record(actor, "ai.project_analysed", report, {"project_id": project.id, "credits": answer.credits}, org=org)
    return report


def narrated_report(org, actor, answer, kind: str, subject_id: int, title: str, figures: dict, details=None):
    """Store the AI's narrative beside the figures it was given, charging the answer in the same
    transaction; an empty answer is refused and charges nothing (project analysis, workflow review)."""
    narrative = answer.content.strip()
    if not narrative:
        answer.refuse("The AI answered with nothing.")
        raise ai.AiUnavailable("The AI answered with nothing; nothing was charged. Try again.")
    answer.charge()
    report = AiReport(
        organization_id=org.id,
        created_by_id=actor.id,
        kind=kind,
        subject_id=subject_id,
        title=title,
        figures=figures,
        narrative=narrative[:20_000],
        usage_log_id=answer.usage_log_id,
        credits_used=answer.credits,
        **({"details": details} if details is not None else {}),
    )
    db.session.add(report)
    db.session.flush()
    return report


def latest_report(org, kind: str, subject_id: int | None) -> AiReport | None:
    return db.session.scalar(
        select(AiReport)
        .where(AiReport.organization_id == org.id, AiReport.kind == kind, AiReport.subject_id == subject_id)
        .order_by(AiReport.id.desc())
        .limit(1)
    )
