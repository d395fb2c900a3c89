"""Workflow optimization: suggestions computed from a workflow's run history (a failing step, a slow
step, a redundant condition), explained by the AI, and applied by the admin in the editor.

The suggestions are Tessera's own arithmetic over the step runs; the AI only writes the narrative.
Applying one changes the step through the workflow rules (a retry or timeout setting validated by
the step's form, or removing the step)."""

from __future__ import annotations

import math

from sqlalchemy import select

from webapp.ai import services as ai
from webapp.ai.models import AiReport
from webapp.ai.projects import narrated_report
from webapp.audit import record
from webapp.core.errors import Conflict, DomainError
from webapp.extensions import db
from webapp.settings import define, get

define("ai.workflow_review_runs", int, 50, "Recent runs a workflow review reads", minimum=5, maximum=1000)
define("ai.workflow_slow_step_ms", int, 5000, "A step slower than this on average is called slow", minimum=100)

FAILING_SHARE = 0.2
MIN_RUNS = 3
MIN_CONDITION_RUNS = 5


def run_figures(workflow) -> dict:
    """Per step of the workflow: how often it ran, failed and stopped the run, and how long it took."""
    from webapp.workflows.models import WorkflowRun, WorkflowStepRun

    run_ids = db.session.scalars(
        select(WorkflowRun.id)
        .where(
            WorkflowRun.workflow_id == workflow.id,
            WorkflowRun.status.in_((WorkflowRun.SUCCEEDED, WorkflowRun.FAILED)),
        )
        .order_by(WorkflowRun.id.desc())
        .limit(get("ai.workflow_review_runs"))
    ).all()
    failed_runs = db.session.scalar(
        select(db.func.count(WorkflowRun.id)).where(
            WorkflowRun.id.in_(run_ids or [0]), WorkflowRun.status == WorkflowRun.FAILED
        )
    )
    step_runs = (
        db.session.scalars(select(WorkflowStepRun).where(WorkflowStepRun.run_id.in_(run_ids))).all() if run_ids else []
    )
    steps = []
    for step in workflow.steps:
        mine = [r for r in step_runs if r.position == step.position and r.step_type == step.type]
        done = [r for r in mine if r.status in (WorkflowStepRun.SUCCEEDED, WorkflowStepRun.FAILED)]
        failed = [r for r in done if r.status == WorkflowStepRun.FAILED]
        durations = [r.duration_ms for r in done if r.duration_ms is not None]
        steps.append(
            {
                "step_id": step.id,
                "position": step.position,
                "type": step.type,
                "name": step.name,
                "ran": len(done),
                "failed": len(failed),
                "stopped_run": sum(1 for r in done if '"stopped"' in (r.output_excerpt or "")),
                "avg_ms": int(sum(durations) / len(durations)) if durations else None,
                "max_ms": max(durations) if durations else None,
                "last_error": (max(failed, key=lambda r: r.id).error or "")[:300] if failed else None,
            }
        )
    return {"runs": len(run_ids), "failed_runs": failed_runs or 0, "steps": steps}


def suggestions_for(workflow, figures: dict) -> list[dict]:
    by_id = {s.id: s for s in workflow.steps}
    found: list[dict] = []
    expressions: dict[str, int] = {}
    for entry in figures["steps"]:
        step = by_id[entry["step_id"]]
        config = dict(step.config or {})
        is_http = step.type == "http_request"
        if entry["ran"] >= MIN_RUNS and entry["failed"] / entry["ran"] >= FAILING_SHARE:
            timed_out = "time" in (entry["last_error"] or "").lower()
            changes = {}
            if is_http and int(config.get("retries") or 0) < 2:
                changes["retries"] = 2
            if is_http and timed_out:
                current = int(config.get("timeout_seconds") or get("workflows.http_timeout_seconds"))
                changes["timeout_seconds"] = min(120, max(30, current * 2))
            found.append(
                {
                    "kind": "failing_step",
                    "step_id": step.id,
                    "position": step.position,
                    "text": (
                        f"Step {step.position} ({step.name}) failed in {entry['failed']} of its {entry['ran']} runs"
                        + (f"; last error: {entry['last_error']}" if entry["last_error"] else "")
                        + (
                            ". Retry it twice" + (" with a longer timeout" if "timeout_seconds" in changes else "")
                            if changes
                            else ""
                        )
                        + "."
                    ),
                    "action": "settings" if changes else None,
                    "changes": changes,
                    "applied": False,
                }
            )
        if entry["avg_ms"] is not None and entry["avg_ms"] >= get("ai.workflow_slow_step_ms"):
            changes = {}
            if is_http and not config.get("timeout_seconds"):
                changes["timeout_seconds"] = min(120, max(5, math.ceil(entry["max_ms"] / 1000) + 5))
            found.append(
                {
                    "kind": "slow_step",
                    "step_id": step.id,
                    "position": step.position,
                    "text": (
                        f"Step {step.position} ({step.name}) takes {entry['avg_ms'] / 1000:.1f} s on average "
                        f"(at most {entry['max_ms'] / 1000:.1f} s)"
                        + (f"; cap it at {changes['timeout_seconds']} s." if changes else ".")
                    ),
                    "action": "settings" if changes else None,
                    "changes": changes,
                    "applied": False,
                }
            )
        if step.type == "condition":
            expression = " ".join(str(config.get("expression") or "").split())
            earlier = expressions.get(expression)
            never_stopped = entry["ran"] >= MIN_CONDITION_RUNS and entry["stopped_run"] == 0 and entry["failed"] == 0
            if earlier is not None or never_stopped:
                why = (
                    f"repeats the condition of step {earlier}"
                    if earlier is not None
                    else f"held in all of its last {entry['ran']} runs and never stopped one"
                )
                found.append(
                    {
                        "kind": "redundant_condition",
                        "step_id": step.id,
                        "position": step.position,
                        "text": f"Step {step.position} ({step.name}: {expression}) {why}; remove it.",
                        "action": "remove",
                        "changes": {},
                        "applied": False,
                    }
                )
            expressions.setdefault(expression, step.position)
    return found


def figures_text(workflow, figures: dict, suggestions: list[dict]) -> str:
    lines = [f"Runs read: {figures['runs']} ({figures['failed_runs']} failed)"]
    for s in figures["steps"]:
        lines.append(
            f"Step {s['position']} {s['type']} '{s['name']}': ran {s['ran']}, failed {s['failed']}, "
            f"stopped the run {s['stopped_run']}, average {s['avg_ms']} ms"
        )
    lines += [f"Suggestion: {s['text']}" for s in suggestions] or ["Suggestion: none"]
    return "\n".join(lines[:80])


def review_workflow(org, workflow, actor) -> AiReport:
    figures = run_figures(workflow)
    if figures["runs"] == 0:
        raise DomainError("This workflow has no finished runs to learn from yet.")
    suggestions = suggestions_for(workflow, figures)
    answer = ai.ask(
        org,
        actor,
        "WORKFLOW_OPTIMIZATION",
        "workflow_review",
        {"workflow_name": workflow.name, "figures": figures_text(workflow, figures, suggestions)},
        operation="workflow_review",
    )
    report = narrated_report(
        org, actor, answer, AiReport.WORKFLOW, workflow.id, workflow.name, figures, {"suggestions": suggestions}
    )
    record(
        actor, "ai.workflow_reviewed", report, {"workflow_id": workflow.id, "suggestions": len(suggestions)}, org=org
    )
    return report


def apply_suggestion(report: AiReport, workflow, actor, index: int) -> dict:
    """Apply suggestion ``index`` of ``report`` to the workflow's step, once."""
    from webapp.workflows import services as workflows
    from webapp.workflows.steps import STEP_TYPES

    db.session.refresh(report, with_for_update=True)  # two clicks at once apply it once
    suggestions = list((report.details or {}).get("suggestions") or [])
    if not 0 <= index < len(suggestions):
        raise DomainError("There is no such suggestion.")
    suggestion = dict(suggestions[index])
    if suggestion.get("applied"):
        raise Conflict("This suggestion was applied already.", code="suggestion_applied")
    if not suggestion.get("action"):
        raise DomainError("This suggestion is advice only; change the step in the editor.")
    step = next((s for s in workflow.steps if s.id == suggestion.get("step_id")), None)
    if step is None:
        raise Conflict("That step is no longer in the workflow.", code="step_gone")
    if suggestion["action"] == "remove":
        if step.type != "condition":
            raise DomainError("Only a condition step is removed by a suggestion.")
        workflows.remove_step(step, actor)
    else:
        kind = STEP_TYPES[step.type]
        config, errors = kind.validate({**(step.config or {}), **suggestion.get("changes", {})})
        if errors:
            field, messages = next(iter(errors.items()))
            raise DomainError(f"The suggested setting does not fit this step ({field}: {' '.join(messages)}).")
        step.config = config
        record(actor, "workflow.step_saved", workflow, {"position": step.position, "from_suggestion": report.id})
    suggestion["applied"] = True
    suggestions[index] = suggestion
    report.details = {**(report.details or {}), "suggestions": suggestions}
    record(actor, "ai.suggestion_applied", report, {"workflow_id": workflow.id, "kind": suggestion["kind"]})
    return suggestion
