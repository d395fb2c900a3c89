"""Workflow jobs: execute a run, the minute dispatcher, pruning of old run logs."""

from __future__ import annotations

from webapp.jobs import job, lease, periodic
from webapp.workflows.models import WorkflowRun


@job(queue="default", retries=0, timeout=900)
def execute_run(run_id: int):
    """Idempotent: a run that is not QUEUED (or is waiting for later) is left alone. Works through the
    workflow's queued runs after it (``execute(drain=True)``): runs started together share a job."""
    from webapp.workflows.execution import execute

    return execute(run_id, drain=True)


@periodic("* * * * *")
@job(queue="default", retries=0)
def dispatch_workflows():
    from webapp.workflows.execution import dispatch_due

    return dispatch_due()


@periodic("23 3 * * *")
@job(queue="maintenance", retries=1)
def prune_workflow_runs():
    from webapp.workflows.execution import prune_runs

    return prune_runs()


@lease.on_expiry(WorkflowRun)
def _run_lease_expired(run):
    from webapp.workflows.execution import recover_lost_run

    return recover_lost_run(run)
