"""How often a run commits: contained steps (conditions, invoice lines…) are saved together with the
run's last state, and everything done before a step that reaches outside is saved before it starts."""

from sqlalchemy import event, func, select

from tests.workflows.helpers import owner_setup
from webapp.extensions import db
from webapp.workflows import execution, services
from webapp.workflows.models import PendingInvoiceLine, WorkflowRun, WorkflowStepRun


def _build(org, user, steps):
    workflow = services.create_workflow(org, user, "Commit flow", "", "manual", {})
    for type_, config in steps:
        step = services.add_step(workflow, user, type_)
        step.config = {**step.config, **config}
    db.session.commit()
    return workflow


CONTAINED = [
    ("condition", {"expression": "trigger.n >= 0"}),
    ("invoice_line", {"description": "Item {{ trigger.n }}", "amount": "1.00", "currency": "USD"}),
    ("condition", {"expression": "step2.status == 'PENDING'"}),
]


def test_a_run_of_contained_steps_is_claimed_in_one_commit_and_saved_in_one(client, ctx):
    user, org = owner_setup(client)
    workflow = _build(org, user, CONTAINED)
    run = execution.start_run(workflow, "manual", {"n": 7})
    db.session.commit()
    commits = []
    listener = lambda conn: commits.append(1)  # noqa: E731
    event.listen(db.engine, "commit", listener)
    try:
        assert execution.execute(run.id) == WorkflowRun.SUCCEEDED
    finally:
        event.remove(db.engine, "commit", listener)
    assert len(commits) == 2
    db.session.expire_all()
    run = db.session.get(WorkflowRun, run.id)
    assert [s.status for s in run.step_runs] == [WorkflowStepRun.SUCCEEDED] * 3
    assert run.lease_owner is None and run.progress == 100 and run.outputs["3"] == {"holds": True}
    [line] = db.session.scalars(select(PendingInvoiceLine).where(PendingInvoiceLine.run_id == run.id)).all()
    assert line.description == "Item 7" and line.amount_cents == 100


def test_contained_steps_are_saved_before_a_step_that_reaches_outside(client, ctx, http_server):
    recorder, url = http_server
    user, org = owner_setup(client)
    workflow = _build(org, user, [*CONTAINED[:2], ("http_request", {"method": "POST", "url": f"{url}/x", "body": ""})])
    run = execution.start_run(workflow, "manual", {"n": 1})
    db.session.commit()
    engine, run_id, seen = db.engine, run.id, []

    class Probe(list):
        """What another connection sees of the run's log while the HTTP step's request arrives."""

        def append(self, item):
            with engine.connect() as conn:
                rows = conn.execute(
                    select(WorkflowStepRun.position, WorkflowStepRun.status)
                    .where(WorkflowStepRun.run_id == run_id)
                    .order_by(WorkflowStepRun.position)
                ).all()
                lines = conn.scalar(select(func.count()).where(PendingInvoiceLine.run_id == run_id))
            seen.append((list(map(tuple, rows)), lines))
            super().append(item)

    recorder.requests = Probe()
    assert execution.execute(run.id) == WorkflowRun.SUCCEEDED
    assert seen == [([(1, "SUCCEEDED"), (2, "SUCCEEDED"), (3, "RUNNING")], 1)]
