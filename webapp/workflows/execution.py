"""Runs: queued by a trigger, claimed under the workflow's concurrency limit, executed step by step
with every step's status written as it happens (a step that reaches outside committed on its own,
contained steps committed together, see ``_execute``), retried from the failed step.

Job bodies live here; ``jobs.py`` wraps them as RQ jobs.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from datetime import timedelta
from typing import overload

from sqlalchemy import Integer, bindparam, delete, func, select, update
from sqlalchemy.orm.attributes import set_committed_value

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


#: Runs a trigger starts in one transaction share a job: one for the first run of a workflow and one for
#: every ``RUNS_PER_JOB`` after it (so a burst still spreads over the workers); each job works through
#: the workflow's queued runs (``execute(drain=True)``), so a run without a job of its own is taken too.
RUNS_PER_JOB = 10
_STARTED_KEY = "tessera.workflow_runs_started"


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
    if _started_in_this_transaction(workflow.id) % RUNS_PER_JOB == 0:
        execute_run.delay(run.id)
    return run


def _started_in_this_transaction(workflow_id: int) -> int:
    """How many runs of the workflow this transaction started before this one."""
    session = db.session()
    transaction = session.get_transaction()
    held = session.info.get(_STARTED_KEY)
    if held is None or held[0] is not transaction:  # a new transaction: count afresh
        held = session.info[_STARTED_KEY] = (transaction, {})
    counts: dict[int, int] = held[1]
    before = counts.get(workflow_id, 0)
    counts[workflow_id] = before + 1
    return before


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
    Commits: the claim must be visible to other workers before the steps start.

    PostgreSQL: the workflow row is locked first (``FOR NO KEY UPDATE``) so two claims never both see
    a free slot; SQLite serializes writers, so the conditional UPDATE is enough there.
    """
    claimed = _claim_run(run_id)
    return claimed[0] if claimed else None


def _claim_run(run_id: int) -> tuple[WorkflowRun, Organization] | None:
    from webapp.orgs.suspension import skip_if_suspended

    run = db.session.get(WorkflowRun, run_id)
    if run is None or run.status != WorkflowRun.QUEUED:
        return None
    if skip_if_suspended(run.organization_id, f"workflow run {run_id}"):
        return None  # stays QUEUED; the dispatcher hands it over again after reactivation
    if run.resume_at is not None and run.resume_at > utcnow():
        return None
    claimed = _claim_where(run.workflow_id, run_id)
    commit_progress("the run is claimed for this worker before its steps start")
    return claimed


def claim_next(workflow_id: int) -> WorkflowRun | None:
    """The workflow's oldest queued run that is due, QUEUED → RUNNING under the same limit as ``claim``,
    in the caller's transaction (the commit that ends the previous run). Rows another transaction
    holds are skipped (``SKIP LOCKED``), so two workers never take the same run nor wait for each other."""
    claimed = _claim_next(workflow_id)
    return claimed[0] if claimed else None


def _claim_next(workflow_id: int) -> tuple[WorkflowRun, Organization] | None:
    return _claim_where(workflow_id, next_queued=True)


def _claim_where(workflow_id: int, run_id: int | None = None, next_queued: bool = False):
    """One conditional UPDATE … RETURNING: run ``run_id`` (or the oldest due queued one), if it is still
    QUEUED and a slot is free; with its workflow and organization, read fresh in the statement that
    locks the workflow. Returns (run, organization) or None."""
    found = db.session.execute(_workflow_lock(db.engine.dialect.name == "postgresql"), {"of_workflow": workflow_id})
    row = found.first()
    if row is None:
        return None
    workflow, org = row
    now = utcnow()
    values = lease.lease_values(lease.new_owner(), now)
    params = {
        "of_workflow": workflow_id,
        "slots": workflow.max_concurrency or 1,
        "claimed_at": now,
        "new_owner": values["lease_owner"],
        "new_expiry": values["lease_expires_at"],
    }
    if not next_queued:
        params["claimed_id"] = run_id
    run = db.session.scalars(_claim_statement(next_queued), params).first()
    if run is None:
        return None
    set_committed_value(run, "workflow", workflow)  # the run holds it: not loaded again
    return run, org


# The claim's statements are built once per process: building them (an alias, a correlated count)
# cost more CPU than running them; each call only binds its values.
@functools.cache
def _workflow_lock(postgresql: bool):
    locked = (
        select(Workflow, Organization)
        .join(Organization, Organization.id == Workflow.organization_id)
        .where(Workflow.id == bindparam("of_workflow"))
        .execution_options(populate_existing=True)
    )
    if postgresql:
        # FOR NO KEY UPDATE: claims wait for each other, never for the key-share locks that rows
        # referencing the workflow (a run's invoice line) hold in a claimer's own transaction.
        locked = locked.with_for_update(key_share=True, of=Workflow)
    return locked


@functools.cache
def _claim_statement(next_queued: bool):
    from webapp.orgs.suspension import suspended_ids

    when = bindparam("claimed_at", type_=WorkflowRun.started_at.type)
    workflow_id = bindparam("of_workflow", type_=Integer)
    other = WorkflowRun.__table__.alias("running_run")
    running = (
        select(func.count())
        .select_from(other)
        .where(other.c.workflow_id == workflow_id, other.c.status == WorkflowRun.RUNNING)
        .scalar_subquery()
    )
    if next_queued:
        oldest = (
            select(WorkflowRun.id)
            .where(
                WorkflowRun.workflow_id == workflow_id,
                WorkflowRun.status == WorkflowRun.QUEUED,
                WorkflowRun.resume_at.is_(None) | (WorkflowRun.resume_at <= when),
                WorkflowRun.organization_id.not_in(suspended_ids()),
            )
            .order_by(WorkflowRun.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        which = WorkflowRun.id == oldest
    else:
        which = WorkflowRun.id == bindparam("claimed_id", type_=Integer)
    return (
        update(WorkflowRun)
        .where(which, WorkflowRun.status == WorkflowRun.QUEUED, running < bindparam("slots", type_=Integer))
        .values(
            status=WorkflowRun.RUNNING,
            attempt=WorkflowRun.attempt + 1,
            started_at=when,
            completed_at=None,
            resume_at=None,
            lease_owner=bindparam("new_owner", type_=WorkflowRun.lease_owner.type),
            lease_expires_at=bindparam("new_expiry", type_=WorkflowRun.lease_expires_at.type),
        )
        .returning(WorkflowRun)
        .execution_options(populate_existing=True)
    )


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


#: A job that ends a run claims its workflow's next queued run in the same commit, up to this many
#: runs or seconds; then it hands the rest to a new job, so other jobs on the queue get their turn.
DRAIN_RUNS = 200
DRAIN_SECONDS = 20.0


def execute(run_id: int, drain: bool = False) -> str | None:
    """Run a queued run from ``next_position``. Returns its final status, or None if not claimed.

    ``drain`` (the job): then, in the commit that saves each run's end, claim the workflow's next
    queued run (``claim_next``) and run it too, within ``DRAIN_RUNS`` / ``DRAIN_SECONDS``; a job whose
    own run another job took helps with the rest of that workflow's queue. Each run starts from the
    database as of its claim (the session is emptied between runs), and the progress commits inside
    a run expire nothing (the run is this worker's while it holds the lease).

    Each run's lease is renewed by a heartbeat while it runs and released in the commit that saves its
    end; a run whose worker died is picked up by ``recover_lost_run`` (the lease sweeper)."""
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        return _execute_runs(run_id, drain)
    finally:
        session.expire_on_commit = expire_on_commit


def _execute_runs(run_id: int, drain: bool) -> str | None:
    from webapp.workflows.jobs import execute_run

    claimed = _claim_run(run_id)
    own = claimed is not None
    if claimed is None:
        if not drain:
            return None
        workflow_id = db.session.scalar(select(WorkflowRun.workflow_id).where(WorkflowRun.id == run_id))
        if workflow_id is None:
            return None
        claimed = _claim_next(workflow_id)  # a job draining the queue took its run: help with the rest
        commit_progress("the run is claimed for this worker before its steps start")
    started, done, status = time.monotonic(), 0, None
    beat: lease.Heartbeat | None = None  # one heartbeat thread for the job, following each run in turn
    try:
        while claimed is not None:
            run, org = claimed
            owner, workflow_id = run.lease_owner, run.workflow_id
            if owner is None:  # the claim just set it: a run without a holder was not claimed by us
                raise RuntimeError(f"workflow run {run.id} was claimed without a lease owner")
            if beat is None:
                beat = lease.Heartbeat(WorkflowRun, run.id, owner, max_seconds=execute_run.timeout).start()
            with lease.held(WorkflowRun, run.id, owner, beat=beat):
                ended = _execute(run, owner, beat, org)
                beat.released = run.lease_owner is None  # its last state gives the lease up: nothing to release
            done += 1
            if done == 1 and own:
                status = ended
            claimed = None
            if drain and done < DRAIN_RUNS and time.monotonic() - started < DRAIN_SECONDS:
                db.session.flush()
                db.session.expire_all()  # the next run sees the database as of its claim, like a job of its own
                claimed = _claim_next(workflow_id)
            else:
                _start_next_queued(workflow_id, commit=False)
            commit_progress("the run's last state is saved as its lease is released (and the next run claimed)")
    finally:
        if beat is not None:
            beat.stop()
    return status


def _still_ours(run: WorkflowRun, owner: str, beat) -> bool:
    """Not cancelled meanwhile, and not taken away by the sweeper (this worker was thought dead).

    Read with a row lock (held to the commit that follows), so neither can happen between this check
    and that commit; the run's own unsaved changes are not flushed for it."""
    query = select(WorkflowRun.status, WorkflowRun.lease_owner).where(WorkflowRun.id == run.id)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update()
    with db.session.no_autoflush:
        row = db.session.execute(query).one_or_none()
    return row is not None and row.status == WorkflowRun.RUNNING and row.lease_owner == owner and not beat.lost


#: Contained steps that finish within this long of the oldest unsaved one are saved in one commit:
#: the run page (which polls) still shows steps as they complete, a fraction of a second late.
LIVE_LOG_SECONDS = 0.5


def _is_contained(step) -> bool:
    kind = STEP_TYPES.get(step.type)
    return kind is not None and kind.contained


def _execute(run: WorkflowRun, owner: str, beat, org: Organization | None = None) -> str:
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
    org = org or get_existing(Organization, workflow.organization_id)
    # Steps left waiting by a wait step are done once the run resumes (a first attempt has none).
    for waiting in [s for s in run.step_runs if s.status == WorkflowStepRun.WAITING] if run.attempt > 1 else []:
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
        else:  # its row joins the session once the step ended: one INSERT, not an INSERT and an UPDATE
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
            if contained:  # the unsaved steps before it went with the rollback
                step_run = _step_row(run, step)
                if unsaved_from < step.position:
                    fail_at = unsaved_from
                    error += f" Steps {unsaved_from} to {step.position - 1} were undone with it; a retry runs them too."
                unsaved_since = None
            else:
                step_run = get_existing(WorkflowStepRun, step_run.id)
        if contained:
            db.session.add(step_run)
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
            return WorkflowRun.SUCCEEDED  # committed as the lease is released
        if index < total:
            commit_progress("the steps so far are saved: the run page shows them")
            unsaved_since = None
    run.mark_finished(WorkflowRun.SUCCEEDED)
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
    """A slot is free and no job of this worker goes on with the workflow's queue: wake its oldest
    queued run. Its job claims it, or, if another job took it meanwhile, the next one (``execute``
    with ``drain``), so a wake-up too many costs one empty job and never runs a run twice. A run
    refused in a race the wake-ups miss is re-queued by the minute dispatcher."""
    from webapp.workflows.jobs import execute_run

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
