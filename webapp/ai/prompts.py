"""Prompt templates: staff edit them per service; these defaults exist until they do."""

from __future__ import annotations

from sqlalchemy import select

from webapp.ai.models import AiPromptTemplate
from webapp.audit import record
from webapp.core.errors import DomainError
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.workflows.templating import TemplateProblem, check_syntax, render_text

DEFAULTS = {
    ("WORKFLOW_OPTIMIZATION", "workflow_draft"): dict(
        name="Describe a workflow → draft",
        category="workflows",
        max_tokens=1200,
        system_prompt=(
            "You design automation workflows for Tessera. Answer with one JSON object only: "
            '{"name": str, "trigger": {"type": "manual|schedule|webhook|event", "cron"?: str, "event"?: str}, '
            '"steps": [{"type": str, "name": str, "config": object, "credential"?: str}], '
            '"credentials"?: {name: {"kind": "bearer|basic|api_key_header|oauth_connection", "label": str}}}. '
            "Step types: {{ step_types }}. Events: {{ events }}."
        ),
        user_template="Organization: {{ org_name }}\nRequest: {{ description }}",
    ),
    ("CAPTION_SUGGESTIONS", "caption_suggestion"): dict(
        name="Suggest caption and hashtags for a video",
        category="studio",
        max_tokens=300,
        system_prompt=(
            "You write short social video captions. Answer with JSON only: "
            '{"caption": str, "hashtags": [str]} with at most 6 hashtags.'
        ),
        user_template="Title: {{ title }}\nAbout: {{ topic }}\nPlatforms: {{ platforms }}",
    ),
    ("CHAT_ASSISTANT", "org_chat"): dict(
        name="Organization assistant",
        category="assistant",
        max_tokens=500,
        system_prompt=(
            "You are the assistant of {{ org_name }} in Tessera, an operations console for billing, "
            "studio posts, support and workflows. Answer briefly and concretely."
        ),
        user_template="{{ question }}",
    ),
    ("TASK_GENERATION", "project_tasks"): dict(
        name="Goal → proposed tasks for a project",
        category="projects",
        max_tokens=1500,
        system_prompt=(
            "You plan work for a team in Tessera. Propose tasks that reach the goal, in order. Answer with "
            'one JSON object only: {"tasks": [{"title": str, "description": str, "due_in_days": int, '
            '"assignee": str}]}: at most 12 tasks, due_in_days from 0 to 365, assignee one of the members '
            "named (exactly as written) or an empty string."
        ),
        user_template="Project: {{ project_name }}\nMembers: {{ members }}\nGoal: {{ goal }}",
    ),
    ("SMART_NOTIFICATIONS", "daily_digest"): dict(
        name="Daily digest of unread notifications",
        category="notifications",
        max_tokens=600,
        system_prompt=(
            "You write the daily digest e-mail of a busy team member. Rank the unread notifications, most "
            'urgent first (failures, overdue money, expiring access). Answer with JSON only: {"headline": str, '
            '"order": [int]}: one sentence, and every notification id in the order to read them.'
        ),
        user_template="Unread notifications of {{ user_name }}:\n{{ items }}",
    ),
    ("PROJECT_ANALYSIS", "project_summary"): dict(
        name="Project status narrative",
        category="projects",
        max_tokens=600,
        system_prompt=(
            "You write a short status narrative of a project for its team, from the figures given (computed "
            "by Tessera from the project's tasks). Name the risks (overdue, blocked, overloaded members) and "
            "the next steps, in at most six sentences. Do not invent figures."
        ),
        user_template="Project: {{ project_name }}\n{{ figures }}",
    ),
    ("DOCUMENT_ANALYSIS", "document_summary"): dict(
        name="Document summary, key dates and amounts",
        category="files",
        max_tokens=1500,
        system_prompt=(
            'You read business documents. Answer with one JSON object only: {"summary": str, '
            '"key_dates": [{"date": "YYYY-MM-DD", "what": str}], "amounts": [{"amount": str, "what": str}], '
            '"tasks": [{"title": str, "description": str, "due_in_days": int}]}: the tasks are the actions '
            "the document asks for (at most 10)."
        ),
        user_template="File: {{ file_name }}\nDocument:\n{{ text }}",
    ),
    ("WORKFLOW_OPTIMIZATION", "workflow_review"): dict(
        name="Workflow run history → advice",
        category="workflows",
        max_tokens=600,
        system_prompt=(
            "You advise the admin of an automation workflow. From its run history figures and the "
            "suggestions Tessera computed, explain in at most five sentences what to change first and why."
        ),
        user_template="Workflow: {{ workflow_name }}\n{{ figures }}",
    ),
}


def ensure_defaults() -> list[AiPromptTemplate]:
    made = []
    for (service, key), spec in DEFAULTS.items():
        exists = db.session.scalar(
            select(AiPromptTemplate).where(AiPromptTemplate.service == service, AiPromptTemplate.key == key)
        )
        if exists is None:
            row = AiPromptTemplate(service=service, key=key, **spec)
            db.session.add(row)
            made.append(row)
    db.session.flush()
    return made


def seed_defaults(conn) -> int:
    """Insert the default templates that are missing, on ``conn`` (a side write: the staff listing
    shows every template, and two staff opening it at once insert each default once)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    table = AiPromptTemplate.__table__
    have = set(conn.execute(select(table.c.service, table.c.key)).all())
    added = 0
    for (service, key), spec in DEFAULTS.items():
        if (service, key) in have:
            continue
        values = {"service": service, "key": key, "created_at": utcnow(), "updated_at": utcnow(), **spec}
        if conn.dialect.name == "postgresql":
            added += conn.execute(pg_insert(table).values(values).on_conflict_do_nothing()).rowcount
        else:
            added += conn.execute(table.insert().values(values)).rowcount
    return added


def prompt_for(service: str, key: str) -> AiPromptTemplate:
    row = db.session.scalar(
        select(AiPromptTemplate).where(AiPromptTemplate.service == service, AiPromptTemplate.key == key)
    )
    if row is None:
        spec = DEFAULTS.get((service, key))
        if spec is None:
            raise DomainError("That AI feature has no prompt.")
        return AiPromptTemplate(service=service, key=key, **spec)
    if not row.is_active:
        raise DomainError("That AI feature is switched off by staff.", code="ai_feature_disabled")
    return row


def render_messages(prompt: AiPromptTemplate, variables: dict) -> list[dict]:
    try:
        return [
            {"role": "system", "content": render_text(prompt.system_prompt, variables)},
            {"role": "user", "content": render_text(prompt.user_template, variables)},
        ]
    except TemplateProblem as problem:
        raise DomainError(f"The prompt template is broken: {problem}") from None


def update_prompt(
    prompt: AiPromptTemplate,
    actor,
    *,
    name: str,
    system_prompt: str,
    user_template: str,
    max_tokens: int,
    is_active: bool,
) -> AiPromptTemplate:
    for field, text in (("system_prompt", system_prompt), ("user_template", user_template)):
        problem = check_syntax(text)
        if problem:
            raise DomainError(problem, field=field)
    prompt.name = name.strip()[:120]
    prompt.system_prompt = system_prompt
    prompt.user_template = user_template
    prompt.max_tokens = max(16, min(int(max_tokens), 8000))
    prompt.is_active = is_active
    prompt.version = (prompt.version or 1) + 1
    prompt.updated_by_id = actor.id
    record(
        actor, "ai_prompt.updated", prompt, {"service": prompt.service, "key": prompt.key, "version": prompt.version}
    )
    return prompt
