"""Demo: prompt templates for every AI service, credit balances for the demo organizations, a project
with AI-proposed tasks and an analysis, and one daily-digest setting on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from webapp.ai import credits
from webapp.ai.models import AiCreditTransaction
from webapp.ai.prompts import ensure_defaults
from webapp.demo import step
from webapp.extensions import db


@step(order=82)
def ai_prompts_and_credits() -> None:
    from webapp.orgs.demo import demo_org

    ensure_defaults()
    for slug in ("harare-retail", "bulawayo-foods", "kyoto-creators"):
        org = demo_org(slug)
        if org is None:
            continue
        credits.balance_of(org, in_session=True)
        bonus = db.session.scalar(
            select(AiCreditTransaction).where(
                AiCreditTransaction.organization_id == org.id, AiCreditTransaction.type == "BONUS"
            )
        )
        if bonus is None:
            credits.adjust(org, None, 1000, "BONUS", "Welcome bonus for the demo")


def _reserve(org, user, service: str, operation: str, tokens: tuple[int, int]) -> dict | None:
    """A reservation as a real request makes it (on its own connection: call before the step writes)."""
    used = credits.credits_for_tokens(sum(tokens))
    transaction_id = credits.reserve(org.id, used, user_id=user.id, service=service, operation=operation)
    if transaction_id is None:
        return None
    return {"id": transaction_id, "used": used, "service": service, "operation": operation, "tokens": tokens}


def _charge(org, user, reservation: dict | None):
    """The charge and the usage-log row, in the step's transaction (the demo does not call the AI)."""
    from webapp.ai.models import AiUsageLog

    if reservation is None:
        return None
    tokens = reservation["tokens"]
    kept = credits.settle(
        org.id,
        reservation["id"],
        reservation["used"],
        reservation["used"],
        reservation["operation"],
        {"input_tokens": tokens[0], "output_tokens": tokens[1]},
        conn=db.session,
    )
    log = AiUsageLog(
        organization_id=org.id,
        user_id=user.id,
        service=reservation["service"],
        operation=reservation["operation"],
        credits_reserved=reservation["used"],
        credits_used=kept,
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        model="tessera-sandbox-1",
        processing_ms=840,
        success=True,
    )
    db.session.add(log)
    db.session.flush()
    return log


@step(order=84)
def ai_project_tasks_and_analysis() -> None:
    """Harare Retail's "Winter promotion": tasks proposed by the AI and accepted, and an analysis."""
    from datetime import timedelta

    from webapp.ai.models import AiReport, AiTaskProposal
    from webapp.ai.projects import accept_proposal, figures_text, project_figures
    from webapp.core.models import utcnow
    from webapp.orgs.demo import demo_org, demo_user
    from webapp.projects import services as projects
    from webapp.projects.models import Project

    org = demo_org("harare-retail")
    if org is None or db.session.scalar(
        select(Project.id).where(Project.organization_id == org.id, Project.name == "Winter promotion")
    ):
        return
    owner = demo_user("owner@harare-retail.example", "Owner of Harare Retail Group")
    member = demo_user("member@harare-retail.example", "")
    db.session.commit()  # nothing pending: the reservations below take the balance row on their own
    proposed = _reserve(org, owner, "TASK_GENERATION", "project_tasks", (310, 190))
    analysed = _reserve(org, owner, "PROJECT_ANALYSIS", "project_analysis", (260, 120))
    project = projects.create_project(org, owner, "Winter promotion", "Posters, staff briefing and a TikTok teaser.")
    log = _charge(org, owner, proposed)
    goal = "Print the posters, brief the store managers and schedule the TikTok teaser before June"
    tasks: list[dict[str, Any]] = [
        {"title": "Print the posters", "description": f"Part of: {goal}", "due_in_days": 3, "assignee_id": member.id},
        {
            "title": "Brief the store managers",
            "description": f"Part of: {goal}",
            "due_in_days": 6,
            "assignee_id": owner.id,
        },
        {
            "title": "Schedule the TikTok teaser",
            "description": f"Part of: {goal}",
            "due_in_days": 9,
            "assignee_id": member.id,
        },
    ]
    proposal = AiTaskProposal(
        organization_id=org.id,
        created_by_id=owner.id,
        project_id=project.id,
        goal=goal,
        tasks=tasks,
        usage_log_id=log.id if log else None,
    )
    db.session.add(proposal)
    db.session.flush()
    today = utcnow().date()
    rows = [
        {**t, "keep": True, "due_date": today + timedelta(days=t["due_in_days"] - 5)} for t in tasks
    ]  # the first one is overdue by now: the analysis has something to say
    accept_proposal(proposal, owner, rows)
    figures = project_figures(db.session.get(Project, project.id))
    log = _charge(org, owner, analysed)
    db.session.add(
        AiReport(
            organization_id=org.id,
            created_by_id=owner.id,
            kind=AiReport.PROJECT,
            subject_id=project.id,
            title=project.name,
            figures=figures,
            narrative=(
                "The promotion is on track except for the posters, which are overdue and hold up the store "
                "briefing. Print them first; the TikTok teaser can be prepared in parallel. "
                f"(Figures used: {figures_text(figures).splitlines()[1]}.)"
            ),
            usage_log_id=log.id if log else None,
            credits_used=log.credits_used if log else 0,
        )
    )
