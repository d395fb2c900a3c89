"""Runs started together share a job, and a job works through its workflow's queue: each run's end
and the claim of the next are one commit, two workers never take the same run, the concurrency
limit holds, and a job that used its budget hands the rest of the queue to a new job."""

import threading
import time

from sqlalchemy import event, func, select, text

from tests.workflows.helpers import owner_setup
from webapp.extensions import db
from webapp.jobs import lease
from webapp.jobs.models import JobOutbox
from webapp.settings.services import update_setting
from webapp.workflows import execution, services
from webapp.workflows.models import PendingInvoiceLine, WorkflowRun

CONTAINED = [
    ("condition", {"expression": "trigger.n >= 0"}),
    ("invoice_line", {"description": "Item {{ trigger.n }}", "amount": "1.00", "currency": "USD"}),
    ("condition", {"expression": "step2.status == 'PENDING'"}),
]


def _build(org, user, limit: int):
    workflow = services.create_workflow(org, user, "Batch flow", "", "manual", {})
    for type_, config in CONTAINED:
        step = services.add_step(workflow, user, type_)
        step.config = {**step.config, **config}
    workflow.max_concurrency = limit
    db.session.commit()
    return workflow


def _start(workflow, count: int) -> list[int]:
    """``count`` runs started in one transaction, the way a trigger's burst starts them."""
    ids = [execution.start_run(workflow, "manual", {"n": n}).id for n in range(count)]
    db.session.commit()
    return ids


def _execute_run_jobs() -> list[list]:
    return [
        row.args
        for row in db.session.scalars(
            select(JobOutbox).where(JobOutbox.func == "webapp.workflows.jobs.execute_run").order_by(JobOutbox.id)
        )
    ]


def _statuses(ids):
    db.session.expire_all()
    rows = db.session.execute(select(WorkflowRun.id, WorkflowRun.status).where(WorkflowRun.id.in_(ids))).all()
    return {row.id: row.status for row in rows}


def test_runs_started_together_share_a_job_per_ten(client, ctx):
    user, org = owner_setup(client)
    workflow = _build(org, user, limit=5)
    before = len(_execute_run_jobs())
    ids = _start(workflow, 23)
    jobs = _execute_run_jobs()[before:]
    assert jobs == [[ids[0]], [ids[10]], [ids[20]]]
    other = _start(workflow, 1)  # a new transaction counts afresh
    assert _execute_run_jobs()[-1] == [other[0]]


def test_one_job_works_through_the_queue_with_one_commit_per_run(client, ctx):
    user, org = owner_setup(client)
    workflow = _build(org, user, limit=1)
    ids = _start(workflow, 12)
    commits = []

    def listener(conn):
        commits.append(1)

    event.listen(db.engine, "commit", listener)
    try:
        assert execution.execute(ids[0], drain=True) == WorkflowRun.SUCCEEDED
    finally:
        event.remove(db.engine, "commit", listener)
    # The first claim, then each run's end together with the claim of the next.
    assert len(commits) == 1 + len(ids)
    assert set(_statuses(ids).values()) == {WorkflowRun.SUCCEEDED}
    # The second job of that transaction finds its run done and nothing queued: nothing runs twice.
    assert execution.execute(ids[10], drain=True) is None
    lines = db.session.scalar(select(func.count()).where(PendingInvoiceLine.run_id.in_(ids)))
    assert lines == len(ids)
    db.session.expire_all()
    runs = db.session.scalars(select(WorkflowRun).where(WorkflowRun.id.in_(ids))).all()
    assert all(run.attempt == 1 and run.lease_owner is None and len(run.step_runs) == 3 for run in runs)


def test_a_job_whose_run_was_taken_helps_with_the_rest_of_the_queue(client, ctx):
    user, org = owner_setup(client)
    workflow = _build(org, user, limit=3)
    ids = _start(workflow, 3)
    taken = execution.claim(ids[0])  # another worker has it
    assert taken is not None
    assert execution.execute(ids[0], drain=True) is None  # not its run's status: it did not run it
    assert _statuses(ids) == {ids[0]: WorkflowRun.RUNNING, ids[1]: WorkflowRun.SUCCEEDED, ids[2]: WorkflowRun.SUCCEEDED}


def test_claim_next_keeps_to_the_concurrency_limit(client, ctx):
    user, org = owner_setup(client)
    workflow = _build(org, user, limit=2)
    ids = _start(workflow, 4)
    first, second = execution.claim_next(workflow.id), execution.claim_next(workflow.id)
    assert (first.id, second.id) == (ids[0], ids[1])  # oldest first
    assert execution.claim_next(workflow.id) is None  # both slots taken
    db.session.commit()
    assert _statuses(ids) == {
        ids[0]: WorkflowRun.RUNNING,
        ids[1]: WorkflowRun.RUNNING,
        ids[2]: WorkflowRun.QUEUED,
        ids[3]: WorkflowRun.QUEUED,
    }


def test_claim_next_skips_a_run_another_transaction_holds(client, ctx):
    user, org = owner_setup(client)
    workflow = _build(org, user, limit=5)
    ids = _start(workflow, 2)
    with db.engine.connect() as other:  # e.g. a cancel of the oldest, not yet committed
        other.execute(text("SELECT id FROM workflow_runs WHERE id = :id FOR UPDATE"), {"id": ids[0]})
        db.session.execute(text("SET LOCAL lock_timeout = '2s'"))  # waiting for it would fail the test
        claimed = execution.claim_next(workflow.id)
        assert claimed is not None and claimed.id == ids[1]
        db.session.commit()
        other.rollback()
    assert _statuses(ids) == {ids[0]: WorkflowRun.QUEUED, ids[1]: WorkflowRun.RUNNING}


def test_two_workers_claiming_at_once_never_take_the_same_run(app, client, ctx):
    user, org = owner_setup(client)
    workflow = _build(org, user, limit=100)
    ids = _start(workflow, 40)
    workflow_id = workflow.id
    taken: dict[str, list[int]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name):
        try:
            with app.app_context():
                barrier.wait()
                while (run := execution.claim_next(workflow_id)) is not None:
                    taken[name].append(run.id)
                    db.session.commit()
                db.session.rollback()
                db.session.remove()
        except BaseException as error:  # reported below: a thread's failure must fail the test
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(name,)) for name in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert not set(taken["a"]) & set(taken["b"])
    assert sorted(taken["a"] + taken["b"]) == ids
    assert set(_statuses(ids).values()) == {WorkflowRun.RUNNING}


def test_a_job_that_used_its_budget_hands_the_rest_to_a_new_job(client, ctx, monkeypatch):
    user, org = owner_setup(client)
    workflow = _build(org, user, limit=1)
    ids = _start(workflow, 5)
    monkeypatch.setattr(execution, "DRAIN_RUNS", 3)
    before = len(_execute_run_jobs())
    assert execution.execute(ids[0], drain=True) == WorkflowRun.SUCCEEDED
    statuses = _statuses(ids)
    assert [statuses[i] for i in ids] == [WorkflowRun.SUCCEEDED] * 3 + [WorkflowRun.QUEUED] * 2
    assert _execute_run_jobs()[before:] == [[ids[3]]]  # the next queued run gets a job of its own
    assert execution.execute(ids[3], drain=True) == WorkflowRun.SUCCEEDED
    assert set(_statuses(ids).values()) == {WorkflowRun.SUCCEEDED}


def test_one_heartbeat_follows_each_run_of_a_job_in_turn(client, ctx):
    update_setting("jobs.lease_seconds", "2", None)  # a beat every half second
    user, org = owner_setup(client)
    workflow = _build(org, user, limit=2)
    first_id, second_id = _start(workflow, 2)
    first, second = execution.claim(first_id), execution.claim(second_id)
    owners = {first_id: first.lease_owner, second_id: second.lease_owner}
    beat = lease.Heartbeat(WorkflowRun, first_id, owners[first_id]).start()
    try:
        lease.release(WorkflowRun, first_id, owners[first_id])  # the first run ended
        db.session.commit()
        assert not beat.renew()  # nothing of the first run to renew any more
        beat.follow(second_id, owners[second_id])
        db.session.expire_all()
        expiry = db.session.get(WorkflowRun, second_id).lease_expires_at
        db.session.rollback()
        time.sleep(1.5)
        db.session.expire_all()
        assert db.session.get(WorkflowRun, second_id).lease_expires_at > expiry  # the second one is renewed
        assert beat.beats >= 1 and not beat.lost  # the first run's release was not taken for a lost lease
    finally:
        beat.stop()
