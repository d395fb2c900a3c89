"""Runs: queued by a trigger, claimed under the workflow's concurrency limit, executed step by step
with every step's status written as it happens (a step that reaches outside committed on its own,
contained steps committed together, see ``_execute``), retried from the failed step.

Job bodies live here; ``jobs.py`` wraps them as RQ jobs.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import overload

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import aliased

from webapp.audit import record
from webapp.core.errors import Conflict
from webapp.core.models import get_existing, rowcount, utcnow
from webapp.core.transaction import commit_progress
from webapp.extensions import db
from webapp.jobs import lease
from webapp.orgs.models import Organization
from webapp.workflows.models import (
    TRIGGER_SCHEDULE,
    CredentialUsage,
    Workflow,
    WorkflowCredential,
    WorkflowRun,
    WorkflowStepRun,
)
from webapp.workflows.steps import STEP_TYPES, StepContext, StepFailed, StopRun, WaitUntil

log = logging.getLogger(__name__)
EXCERPT = 2000
OUTPUT_LIMIT = 20_000
REDACTED = "[redacted]"


def json_safe(data) -> dict:
    try:
        return json.loads(json.dumps(data, default=str))
    except (TypeError, ValueError):
        return {"value": str(data)[:EXCERPT]}


@overload
def scrub(text: str, secrets: list[str]) -> str: ...


@overload
def scrub(text: str | None, secrets: list[str]) -> str | None: ...


def scrub(text: str | None, secrets: list[str]) -> str | None:
    if text is None:
        return None
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


# --- starting -------------------------------------------------------------------------------------


def start_run(workflow: Workflow, trigger_type: str, payload: dict | None = None, actor=None) -> WorkflowRun:
    from webapp.workflows.jobs import execute_run

    run = WorkflowRun(
        organization_id=workflow.organization_id,
        workflow_id=workflow.id,
        trigger_type=trigger_type,
        trigger_payload=json_safe(payload or {}),
        status=WorkflowRun.QUEUED,
    )
    db.session.add(run)
    workflow.last_run_at = utcnow()
    db.session.flush()
    if actor is not None:
        record(actor, "workflow.run_started", workflow, {"run_id": run.id})
    execute_run.delay(run.id)
    return run


def retry_run(run: WorkflowRun, actor) -> WorkflowRun:
    """Start again at the step that failed; earlier steps' outputs are kept and reused."""
    from webapp.workflows.jobs import execute_run

    if run.status != WorkflowRun.FAILED:
        raise Conflict("Only a failed run can be retried.")
    run.status = WorkflowRun.QUEUED
    run.next_position = run.failed_position or run.next_position
    run.error_message = None
    run.completed_at = None
    run.resume_at = None
    run.queued_at = utcnow()
    record(actor, "workflow.run_retried", run.workflow, {"run_id": run.id, "from_step": run.next_position})
    execute_run.delay(run.id)
    return run


def cancel_run(run: WorkflowRun, actor) -> WorkflowRun:
    if run.is_finished:
        raise Conflict("That run has already finished.")
    run.mark_finished(WorkflowRun.CANCELLED, "Cancelled by " + (getattr(actor, "display_name", None) or "staff"))
    run.resume_at = None
    record(actor, "workflow.run_cancelled", run.workflow, {"run_id": run.id})
    return run


# --- claiming -------------------------------------------------------------------------------------


def claim(run_id: int) -> WorkflowRun | None:
    """QUEUED → RUNNING only while fewer than ``max_concurrency`` runs of the workflow are running;
    the same UPDATE takes the run's lease (``run.lease_owner``), which the executor keeps renewed.

    PostgreSQL: the workflow row is locked first so two claims never both see a free slot; SQLite
    serializes writers, so the conditional UPDATE is enough there.
    """
    from webapp.orgs.suspension import skip_if_suspended

    run = db.session.get(WorkflowRun, run_id)
    if run is None or run.status != WorkflowRun.QUEUED:
        return None
    if skip_if_suspended(run.organization_id, f"workflow run {run_id}"):
        return None  # stays QUEUED; the dispatcher hands it over again after reactivation
    now = utcnow()
    if run.resume_at is not None and run.resume_at > now:
        return None
    workflow_id, limit = run.workflow_id, run.workflow.max_concurrency or 1
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(Workflow.id).where(Workflow.id == workflow_id).with_for_update())
    other = aliased(WorkflowRun)
    running = (
        select(func.count(other.id))
        .where(other.workflow_id == workflow_id, other.status == WorkflowRun.RUNNING)
        .scalar_subquery()
    )
    result = db.session.execute(
        update(WorkflowRun)
        .where(WorkflowRun.id == run_id, WorkflowRun.status == WorkflowRun.QUEUED, running < limit)
        .values(
            status=WorkflowRun.RUNNING,
            attempt=WorkflowRun.attempt + 1,
            started_at=now,
            completed_at=None,
            resume_at=None,
            **lease.lease_values(lease.new_owner(), now),
        )
        .execution_options(synchronize_session=False)
    )
    commit_progress("the run is claimed for this worker before its steps start")
    if rowcount(result) != 1:
        return None
    db.session.refresh(run)
    return run


# --- executing ------------------------------------------------------------------------------------


def _scope(run: WorkflowRun) -> dict:
    outputs = run.outputs or {}
    scope = {
        "trigger": run.trigger_payload or {},
        "steps": outputs,
        "workflow": {"id": run.workflow_id, "name": run.workflow.name},
    }
    for key, value in outputs.items():
        scope[f"step{key}"] = value
    scope["run"] = {"id": run.id, "attempt": run.attempt}
    return scope


def _excerpt(output, secrets) -> str:
    text = json.dumps(output, default=str, ensure_ascii=False)
    return scrub(text, secrets)[:EXCERPT]


def _record_credential_uses(ctx: StepContext) -> None:
    now = utcnow()
    for credential_id, success in ctx.credential_uses:
        db.session.add(
            CredentialUsage(
                organization_id=ctx.org.id,
                credential_id=credential_id,
                workflow_id=ctx.workflow.id,
                run_id=ctx.run.id,
                step_position=ctx.position,
                used_at=now,
                success=success,
            )
        )
        db.session.execute(
            update(WorkflowCredential).where(WorkflowCredential.id == credential_id).values(last_used_at=now)
        )


def execute(run_id: int) -> str | None:
    """Run a queued run from ``next_position``. Returns the final status, or None if not claimed.

    The run's lease is renewed by a heartbeat while this runs and released when it returns; a run
    whose worker died is picked up by ``recover_lost_run`` (the lease sweeper)."""
    from webapp.workflows.jobs import execute_run

    run = claim(run_id)
    if run is None:
        return None
    owner = run.lease_owner
    if owner is None:  # claim() just set it: a run without a holder was not claimed by us
        raise RuntimeError(f"workflow run {run.id} was claimed without a lease owner")
    with lease.held(WorkflowRun, run.id, owner, max_seconds=execute_run.timeout) as beat:
        status = _execute(run, owner, beat)
    commit_progress("the run's last state is saved as its lease is released")
    return status


def _still_ours(run: WorkflowRun, owner: str, beat) -> bool:
    """Not cancelled meanwhile, and not taken away by the sweeper (this worker was thought dead)."""
    db.session.refresh(run, ["status", "lease_owner"])
    return run.status == WorkflowRun.RUNNING and run.lease_owner == owner and not beat.lost


#: Contained steps that finish within this long of the oldest unsaved one are saved in one commit:
#: the run page (which polls) still shows steps as they complete, a fraction of a second late.
LIVE_LOG_SECONDS = 0.5


def _is_contained(step) -> bool:
    kind = STEP_TYPES.get(step.type)
    return kind is not None and kind.contained


def _execute(run: WorkflowRun, owner: str, beat) -> str:
    """The steps from ``next_position``, with the fewest commits the live log and the lease allow.

    A step that reaches outside (an HTTP call) gets its row committed before it starts and its result
    committed after it ends, so a worker that dies in it leaves a RUNNING row for the sweeper to judge.
    Contained steps (``StepType.contained``) are saved together at the next commit point: before a
    step that reaches outside, after ``LIVE_LOG_SECONDS``, or with the run's last state (the commit
    that releases its lease): a run of contained steps only is claimed in one commit and saved in one.
    A worker that dies with contained steps unsaved leaves the run between two steps, so the sweeper
    queues it again from the first of them: nothing of them happened. A crash (a bug) in a contained
    step undoes the unsaved steps with it, and the run fails at the first of them, so a retry runs
    them again with their outputs.
    """
    run_id = run.id
    workflow = run.workflow
    org = get_existing(Organization, workflow.organization_id)
    # Steps left waiting by a wait step are done once the run resumes.
    for waiting in [s for s in run.step_runs if s.status == WorkflowStepRun.WAITING]:
        waiting.status = WorkflowStepRun.SUCCEEDED
        waiting.completed_at = utcnow()
    steps = list(workflow.steps)
    total = len(steps)
    unsaved_since: float | None = None  # when the oldest contained step not yet committed started
    unsaved_from = run.next_position  # and its position

    def stop_here() -> str:
        """The run is no longer ours: contained steps not yet saved never happened; the rest is saved."""
        if unsaved_since is not None:
            db.session.rollback()
        else:
            commit_progress("the step of a run cancelled meanwhile is logged as it ended")
        _start_next_queued(workflow.id)
        return get_existing(WorkflowRun, run_id).status

    for index, step in enumerate(steps[run.next_position - 1 :], start=run.next_position):
        kind = STEP_TYPES.get(step.type)
        contained = _is_contained(step)
        step_run = _step_row(run, step)
        if not contained:
            if not _still_ours(run, owner, beat):
                return stop_here()
            db.session.add(step_run)
            commit_progress("each step's row exists before the step reaches outside")
            unsaved_since = None
        else:
            db.session.add(step_run)
            if unsaved_since is None:
                unsaved_since, unsaved_from = time.monotonic(), step.position
        ctx = StepContext(org=org, workflow=workflow, run=run, position=step.position, scope=_scope(run))
        started = time.monotonic()
        outcome, output, error, wait_until = "ok", None, None, None
        fail_at = step.position
        try:
            if kind is None:
                raise StepFailed(f"Unknown step type “{step.type}”.")
            output = kind.execute(ctx, dict(step.config or {}), step)
        except WaitUntil as signal:
            outcome, wait_until = "wait", signal.until
        except StopRun as signal:
            outcome, output = "stop", {"stopped": str(signal)}
        except StepFailed as failure:
            outcome, error = "failed", str(failure)
        except Exception as failure:  # a bug in a step must still end the run with a readable reason
            log.exception("workflow step %s of run %s crashed", step.position, run.id)
            db.session.rollback()
            outcome, error = "failed", f"Internal error in this step ({type(failure).__name__})."
            run = get_existing(WorkflowRun, run_id)
            if contained:  # its row went with the rollback, and so did the unsaved steps before it
                step_run = _step_row(run, step)
                db.session.add(step_run)
                if unsaved_from < step.position:
                    fail_at = unsaved_from
                    error += f" Steps {unsaved_from} to {step.position - 1} were undone with it; a retry runs them too."
                unsaved_since = None
            else:
                step_run = get_existing(WorkflowStepRun, step_run.id)
        step_run.duration_ms = int((time.monotonic() - started) * 1000)
        step_run.completed_at = utcnow()
        _record_credential_uses(ctx)
        if outcome == "ok" and contained and index < total:
            following = steps[index]
            recent = unsaved_since is not None and time.monotonic() - unsaved_since < LIVE_LOG_SECONDS
            if _is_contained(following) and recent:
                _record_success(run, step, step_run, output, ctx, total)
                continue  # saved with the next commit point
        if not _still_ours(run, owner, beat):  # cancelled (or swept) while the step ran: leave the run be
            step_run.status = WorkflowStepRun.FAILED if outcome == "failed" else WorkflowStepRun.SUCCEEDED
            step_run.error = scrub(error, ctx.secrets)[:EXCERPT] if error else None
            return stop_here()
        if outcome == "failed":
            step_run.status = WorkflowStepRun.FAILED
            step_run.error = scrub(error or "", ctx.secrets)[:EXCERPT]
            run.failed_position = fail_at
            run.next_position = fail_at
            run.mark_finished(WorkflowRun.FAILED, f"Step {step.position} ({step.name}) failed: {step_run.error}")
            run.add_error(step_run.error, step=step.position)
            _start_next_queued(workflow.id, commit=False)
            return WorkflowRun.FAILED  # committed as the lease is released
        if wait_until is not None:  # outcome "wait": only a WaitUntil sets it
            step_run.status = WorkflowStepRun.WAITING
            step_run.output_excerpt = f"Waiting until {wait_until.isoformat(timespec='seconds')}"
            run.status = WorkflowRun.QUEUED
            run.resume_at = wait_until
            run.lease_owner = run.lease_expires_at = None  # nobody holds a run while it waits
            run.next_position = step.position + 1
            run.report_progress(step.position, total)
            commit_progress("the run waits; its place is saved before the worker lets go")
            _resume_later(run.id, wait_until)
            _start_next_queued(workflow.id)
            return WorkflowRun.QUEUED
        _record_success(run, step, step_run, output, ctx, total)
        if outcome == "stop":
            for later in steps[step.position :]:
                db.session.add(
                    WorkflowStepRun(
                        run_id=run.id,
                        position=later.position,
                        step_type=later.type,
                        name=later.name,
                        status=WorkflowStepRun.SKIPPED,
                        attempt=run.attempt,
                    )
                )
            run.mark_finished(WorkflowRun.SUCCEEDED)
            _start_next_queued(workflow.id, commit=False)
            return WorkflowRun.SUCCEEDED  # committed as the lease is released
        if index < total:
            commit_progress("the steps so far are saved: the run page shows them")
            unsaved_since = None
    run.mark_finished(WorkflowRun.SUCCEEDED)
    _start_next_queued(workflow.id, commit=False)
    return WorkflowRun.SUCCEEDED  # committed as the lease is released


def _step_row(run: WorkflowRun, step) -> WorkflowStepRun:
    return WorkflowStepRun(
        run_id=run.id,
        position=step.position,
        step_type=step.type,
        name=step.name,
        status=WorkflowStepRun.RUNNING,
        attempt=run.attempt,
        started_at=utcnow(),
    )


def _record_success(run: WorkflowRun, step, step_run: WorkflowStepRun, output, ctx: StepContext, total: int) -> None:
    step_run.status = WorkflowStepRun.SUCCEEDED
    step_run.output_excerpt = _excerpt(output, ctx.secrets)
    outputs = dict(run.outputs or {})
    stored = json_safe(output)
    if len(json.dumps(stored)) > OUTPUT_LIMIT:
        stored = {"truncated": True, "excerpt": step_run.output_excerpt}
    outputs[str(step.position)] = json.loads(scrub(json.dumps(stored), ctx.secrets))
    run.outputs = outputs
    run.next_position = step.position + 1
    run.report_progress(step.position, total)
    run.bump("steps_succeeded")


def _resume_later(run_id: int, when) -> None:
    from webapp.jobs.runner import backend
    from webapp.workflows.jobs import execute_run

    # In-process jobs cannot wait; the minute dispatcher resumes the run when it is due.
    if backend() == "rq":
        execute_run.delay(run_id, at=when)
        commit_progress("the resume is scheduled: saved with it")


def _start_next_queued(workflow_id: int, commit: bool = True) -> None:
    """A slot is free: wake the oldest run of this workflow still waiting for one.

    Only when the workflow was full as this run ended: a claim is refused only then, and a queued run
    that was never refused still has its own job on the way (waking it too would run every job twice).
    A run refused in a race the count misses is re-queued by the minute dispatcher."""
    from webapp.workflows.jobs import execute_run

    workflow = db.session.get(Workflow, workflow_id)
    limit = (workflow.max_concurrency if workflow is not None else 1) or 1
    if limit > 1:
        running = db.session.scalar(
            select(func.count(WorkflowRun.id)).where(
                WorkflowRun.workflow_id == workflow_id, WorkflowRun.status == WorkflowRun.RUNNING
            )
        )
        if (running or 0) + 1 < limit:
            return
    waiting = db.session.scalar(
        select(WorkflowRun.id)
        .where(
            WorkflowRun.workflow_id == workflow_id,
            WorkflowRun.status == WorkflowRun.QUEUED,
            WorkflowRun.resume_at.is_(None),
        )
        .order_by(WorkflowRun.id)
        .limit(1)
    )
    if waiting is not None:
        execute_run.delay(waiting)
        if commit:
            commit_progress("the next queued run is started")


# --- a worker that died ---------------------------------------------------------------------------


def recover_lost_run(run: WorkflowRun) -> tuple[str, str]:
    """The lease sweeper's handler: the worker running ``run`` stopped (its lease ran out).

    The step it was in is logged as interrupted. If that step is safe to repeat (and the run has not
    been re-queued too often) the run is queued again from that step; otherwise it fails there, so a
    person can check what the step did and retry from it. Either way its concurrency slot is freed.
    """
    from webapp.workflows.jobs import execute_run

    if run.status != WorkflowRun.RUNNING:  # finished (or paused) before the lease was released
        return lease.RELEASED, ""
    now = utcnow()
    interrupted = db.session.scalar(
        select(WorkflowStepRun)
        .where(WorkflowStepRun.run_id == run.id, WorkflowStepRun.status == WorkflowStepRun.RUNNING)
        .order_by(WorkflowStepRun.id.desc())
        .limit(1)
    )
    steps = {step.position: step for step in run.workflow.steps}
    if interrupted is not None:
        interrupted.status = WorkflowStepRun.FAILED
        interrupted.error = "The worker stopped while this step was running."
        interrupted.completed_at = now
        position, name = interrupted.position, interrupted.name
        step = steps.get(position)
        kind = STEP_TYPES.get(interrupted.step_type)
        repeatable = step is not None and kind is not None and kind.repeatable(dict(step.config or {}))
        where = f"while running step {position} ({name or interrupted.step_type})"
    else:  # between two steps: the last one finished and was saved, the next had not started
        position = run.next_position
        repeatable = True
        where = f"after step {position - 1}, before step {position}" if position > 1 else "before step 1"
    if repeatable and lease.requeue_allowed(run):
        reason = f"The worker stopped {where}; the run was queued again from there (safe to repeat)."
        run.status = WorkflowRun.QUEUED
        run.queued_at = now
        run.resume_at = None
        run.next_position = position
        run.add_error(reason, step=position)
        execute_run.delay(run.id)
        return lease.REQUEUED, reason
    if not repeatable:
        reason = (
            f"The worker stopped {where}; nothing after it ran. That step may have done its work "
            "outside Tessera: check before you retry the run from it."
        )
    else:
        reason = (
            f"The worker stopped {where}; nothing after it ran. "
            f"It stopped {lease.times(run.lease_expiries)}, so the run is not queued again: "
            "retry it when the cause is fixed."
        )
    run.failed_position = position
    run.next_position = position
    run.mark_finished(WorkflowRun.FAILED, reason)
    run.add_error(reason, step=position)
    _start_next_queued(run.workflow_id, commit=False)
    return lease.FAILED, reason


# --- periodic -------------------------------------------------------------------------------------


def dispatch_due(now=None) -> dict:
    """Each minute: start schedule-triggered workflows that are due (claimed by compare-and-set on
    ``next_run_at``, so two dispatchers never start the same occurrence), resume waits that are due,
    and re-queue runs that waited for a concurrency slot."""
    from webapp.orgs.suspension import suspended_ids
    from webapp.workflows.jobs import execute_run
    from webapp.workflows.services import next_fire

    now = now or utcnow()
    started = resumed = 0
    # A suspended organization's schedules and queued runs wait; the first minute after reactivation takes them.
    due = db.session.execute(
        select(Workflow.id, Workflow.next_run_at).where(
            Workflow.trigger_type == TRIGGER_SCHEDULE,
            Workflow.enabled.is_(True),
            Workflow.next_run_at <= now,
            Workflow.organization_id.not_in(suspended_ids()),
        )
    ).all()
    for workflow_id, due_at in due:
        if due_at is None:  # the query asked for next_run_at <= now: never, but the column allows it
            continue
        workflow = get_existing(Workflow, workflow_id)
        org = get_existing(Organization, workflow.organization_id)
        following = next_fire(workflow, max(now, due_at), org.timezone)
        claimed = db.session.execute(
            update(Workflow)
            .where(Workflow.id == workflow_id, Workflow.next_run_at == due_at)
            .values(next_run_at=following)
            .execution_options(synchronize_session=False)
        )
        if rowcount(claimed) == 1:
            start_run(workflow, TRIGGER_SCHEDULE, {"scheduled_for": due_at.isoformat(), "fired_at": now.isoformat()})
            started += 1
        commit_progress("each scheduled workflow is claimed and started on its own")
    ready = db.session.scalars(
        select(WorkflowRun.id)
        .where(
            WorkflowRun.status == WorkflowRun.QUEUED,
            WorkflowRun.organization_id.not_in(suspended_ids()),
            ((WorkflowRun.resume_at.is_not(None)) & (WorkflowRun.resume_at <= now))
            | ((WorkflowRun.resume_at.is_(None)) & (WorkflowRun.queued_at <= now - timedelta(minutes=1))),
        )
        .limit(500)
    ).all()
    for run_id in ready:
        execute_run.delay(run_id)
        resumed += 1
    commit_progress("the due runs are handed to the workers")
    return {"started": started, "resumed": resumed}


def prune_runs(now=None) -> int:
    """Delete finished runs (and their step logs) older than the retention setting."""
    from webapp.settings import get

    cutoff = (now or utcnow()) - timedelta(days=get("workflows.retention_days"))
    old = (
        select(WorkflowRun.id)
        .where(WorkflowRun.status.in_(WorkflowRun.FINISHED), WorkflowRun.completed_at < cutoff)
        .limit(5000)
    )
    total = 0
    while ids := list(db.session.scalars(old)):
        db.session.execute(delete(WorkflowStepRun).where(WorkflowStepRun.run_id.in_(ids)))
        db.session.execute(update(CredentialUsage).where(CredentialUsage.run_id.in_(ids)).values(run_id=None))
        db.session.execute(
            delete(WorkflowRun).where(WorkflowRun.id.in_(ids)).execution_options(synchronize_session=False)
        )
        total += len(ids)
        commit_progress("retention deletes in batches")
    return total
