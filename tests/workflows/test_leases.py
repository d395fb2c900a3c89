"""A workflow run whose worker died: the lease sweeper re-queues it when the interrupted step is safe
to repeat, else fails it with the reason, and either way the next queued run gets the slot."""

from datetime import timedelta

from sqlalchemy import select

from tests.workflows.helpers import owner_setup
from webapp.audit.models import AuditEntry
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.jobs import lease
from webapp.settings.services import update_setting
from webapp.workflows import execution, services
from webapp.workflows.models import WorkflowRun, WorkflowStepRun


def _build(org, user, steps):
    workflow = services.create_workflow(org, user, "Lease flow", "", "manual", {})
    for type_, config in steps:
        step = services.add_step(workflow, user, type_)
        step.config = {**step.config, **config}
    db.session.commit()
    return workflow


def _orphan(workflow, position=1, in_step=True) -> WorkflowRun:
    """What a killed worker leaves: RUNNING, the step's row RUNNING, a lease nobody renews."""
    run = execution.start_run(workflow, "manual", {})
    db.session.commit()
    run = execution.claim(run.id)
    assert run is not None and run.lease_owner
    run.next_position = position
    if in_step:
        step = workflow.steps[position - 1]
        db.session.add(
            WorkflowStepRun(
                run_id=run.id,
                position=position,
                step_type=step.type,
                name=step.name,
                status=WorkflowStepRun.RUNNING,
                attempt=run.attempt,
                started_at=utcnow(),
            )
        )
    run.lease_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    return run


def _runs(workflow):
    db.session.expire_all()
    return db.session.scalars(
        select(WorkflowRun).where(WorkflowRun.workflow_id == workflow.id).order_by(WorkflowRun.id)
    ).all()


def test_died_in_a_post_step_fails_with_the_reason_and_the_next_run_gets_the_slot(client, ctx, run_jobs, http_server):
    recorder, url = http_server
    user, org = owner_setup(client)
    workflow = _build(org, user, [("http_request", {"method": "POST", "url": f"{url}/hook", "body": ""})])
    lost = _orphan(workflow)
    execution.start_run(workflow, "manual", {})
    db.session.commit()
    run_jobs()
    lost, waiting = _runs(workflow)
    assert lost.status == WorkflowRun.RUNNING and waiting.status == WorkflowRun.QUEUED  # one at a time
    assert recorder.requests == []

    assert lease.sweep() == {"workflow_runs": {"failed": 1}}
    db.session.refresh(lost)
    assert lost.status == WorkflowRun.FAILED and lost.failed_position == 1 and lost.lease_owner is None
    assert "The worker stopped while running step 1 (HTTP request); nothing after it ran." in lost.error_message
    assert "check before you retry" in lost.error_message
    [step_run] = lost.step_runs
    assert step_run.status == WorkflowStepRun.FAILED and "worker stopped" in step_run.error
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "job.lease_expired"))
    assert entry.entity_id == lost.id and entry.organization_id == org.id and entry.details["outcome"] == "failed"

    run_jobs()  # the sweeper woke the queued run
    lost, done = _runs(workflow)
    assert done.status == WorkflowRun.SUCCEEDED and len(recorder.requests) == 1
    assert done.lease_owner is None and done.lease_expires_at is None  # released with its last write
    page = client.get(f"/o/{org.slug}/workflows/runs/{lost.id}").get_data(as_text=True)
    assert "The worker stopped while running step 1" in page

    client.post(f"/o/{org.slug}/workflows/runs/{lost.id}/retry")  # a person checked: retry from that step
    run_jobs()
    db.session.refresh(lost)
    assert lost.status == WorkflowRun.SUCCEEDED and len(recorder.requests) == 2


def test_a_safe_step_is_requeued_and_finishes_until_the_limit(client, ctx, run_jobs, http_server):
    recorder, url = http_server
    user, org = owner_setup(client)
    workflow = _build(org, user, [("http_request", {"method": "GET", "url": f"{url}/status"})])
    run = _orphan(workflow)
    assert lease.sweep() == {"workflow_runs": {"requeued": 1}}
    db.session.refresh(run)
    assert run.status == WorkflowRun.QUEUED and run.next_position == 1 and run.lease_expiries == 1
    assert "queued again from there (safe to repeat)" in run.errors[-1]["message"]
    run_jobs()
    db.session.refresh(run)
    assert run.status == WorkflowRun.SUCCEEDED and [r["method"] for r in recorder.requests] == ["GET"]
    assert [s.status for s in run.step_runs] == [WorkflowStepRun.FAILED, WorkflowStepRun.SUCCEEDED]

    update_setting("jobs.lease_requeues", "0", None)
    db.session.commit()
    again = _orphan(workflow)
    assert lease.sweep() == {"workflow_runs": {"failed": 1}}
    db.session.refresh(again)
    assert again.status == WorkflowRun.FAILED and "It stopped once, so the run is not queued again" in (
        again.error_message
    )


def test_died_between_steps_is_requeued_from_the_next_step(client, ctx, run_jobs, http_server):
    recorder, url = http_server
    user, org = owner_setup(client)
    workflow = _build(
        org,
        user,
        [
            ("http_request", {"method": "POST", "url": f"{url}/first", "body": ""}),
            ("http_request", {"method": "POST", "url": f"{url}/second", "body": ""}),
        ],
    )
    run = _orphan(workflow, position=2, in_step=False)  # step 1 finished and was saved
    assert lease.sweep() == {"workflow_runs": {"requeued": 1}}
    db.session.refresh(run)
    assert run.errors[-1]["message"].startswith("The worker stopped after step 1, before step 2; the run was queued")
    run_jobs()
    db.session.refresh(run)
    assert run.status == WorkflowRun.SUCCEEDED
    assert [r["path"] for r in recorder.requests] == ["/second"]  # step 1 did not run twice


def test_a_worker_that_lost_its_lease_stops_before_the_next_step(client, ctx, http_server):
    recorder, url = http_server
    user, org = owner_setup(client)
    workflow = _build(org, user, [("http_request", {"method": "POST", "url": f"{url}/a", "body": ""})])
    run = _orphan(workflow, in_step=False)
    owner = run.lease_owner
    lease.sweep()  # the sweeper thought it dead and queued it again; another worker claims it
    retaken = execution.claim(run.id)
    assert retaken.lease_owner != owner
    beat = lease.Heartbeat(WorkflowRun, run.id, owner)
    assert not beat.renew()
    assert not execution._still_ours(retaken, owner, beat)  # the old worker would stop here
    assert recorder.requests == []
