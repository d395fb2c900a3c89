"""Workflow optimization through the routes: suggestions computed from real runs (an HTTP step against a
local server, two conditions), the AI's narrative from the sandbox, and applying suggestions in the
editor (a retry setting the next run uses, removing a redundant condition), each once."""

from sqlalchemy import func, select

from tests.factories import add_member, make_org, make_user
from tests.workflows.conftest import http_server  # noqa: F401  (the local endpoint the HTTP step calls)
from tests.workflows.helpers import owner_setup
from webapp.ai import credits
from webapp.ai.models import AiCreditBalance, AiReport, AiUsageLog
from webapp.extensions import db
from webapp.workflows import services
from webapp.workflows.models import Workflow, WorkflowRun, WorkflowStep


def _run(client, org, workflow, run_jobs) -> WorkflowRun:
    assert client.post(f"/o/{org.slug}/workflows/{workflow.id}/run").status_code == 303
    run_jobs()
    db.session.expire_all()
    return db.session.scalars(
        select(WorkflowRun).where(WorkflowRun.workflow_id == workflow.id).order_by(WorkflowRun.id.desc())
    ).first()


def _balance(org) -> int:
    db.session.expire_all()
    return db.session.scalar(select(AiCreditBalance.balance).where(AiCreditBalance.organization_id == org.id))


def test_review_from_run_history_and_apply_in_the_editor(client, make_client, ctx, run_jobs, http_server):  # noqa: F811
    recorder, url = http_server
    user, org = owner_setup(client)
    credits.balance_of(org)
    credits.adjust(org, user, 500, "BONUS", "Test credits")
    workflow = services.create_workflow(org, user, "Ping the shop", "", "manual", {})
    for type_, config in (
        ("http_request", {"method": "POST", "url": f"{url}/ping", "body": '{"a": 1}'}),
        ("condition", {"expression": "step1.status == 200"}),
        ("condition", {"expression": "step1.status  ==  200"}),
    ):
        step = services.add_step(workflow, user, type_)
        step.config = {**step.config, **config}
    db.session.commit()

    # no history yet: nothing to review, nothing asked
    empty = client.post(f"/o/{org.slug}/ai/workflows/{workflow.id}/review", follow_redirects=True)
    assert "no finished runs" in empty.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AiUsageLog.id))) == 0

    for _ in range(5):
        assert _run(client, org, workflow, run_jobs).status == "SUCCEEDED"
    recorder.status = 503
    for _ in range(2):
        assert _run(client, org, workflow, run_jobs).status == "FAILED"
    recorder.status = 200

    page = client.get(f"/o/{org.slug}/ai/workflows/{workflow.id}/review").get_data(as_text=True)
    assert "failed in 2 of its 7 runs" in page and "No AI review yet" in page
    before = _balance(org)
    assert client.post(f"/o/{org.slug}/ai/workflows/{workflow.id}/review").status_code == 303
    report = db.session.scalar(select(AiReport).where(AiReport.kind == "workflow"))
    kinds = [(s["kind"], s["position"], s["action"]) for s in report.details["suggestions"]]
    assert kinds == [
        ("failing_step", 1, "settings"),
        ("redundant_condition", 2, "remove"),
        ("redundant_condition", 3, "remove"),
    ]
    assert report.details["suggestions"][0]["changes"] == {"retries": 2}
    assert "repeats the condition of step 2" in report.details["suggestions"][2]["text"]
    assert "Runs read: 7 (2 failed)" in report.narrative  # the sandbox restates the figures it was given
    [log] = db.session.scalars(select(AiUsageLog).where(AiUsageLog.service == "WORKFLOW_OPTIMIZATION")).all()
    assert log.success and _balance(org) == before - log.credits_used

    editor = client.get(f"/o/{org.slug}/workflows/{workflow.id}").get_data(as_text=True)
    assert "Suggestions from the run history" in editor and "Apply: retries = 2" in editor
    apply = f"/o/{org.slug}/ai/workflows/{workflow.id}/review/{report.id}/apply"
    assert client.post(f"{apply}/0").status_code == 303
    step1 = db.session.scalar(
        select(WorkflowStep).where(WorkflowStep.workflow_id == workflow.id, WorkflowStep.position == 1)
    )
    assert step1.config["retries"] == 2
    # applied once: a second click changes nothing and says so
    again = client.post(f"{apply}/0", follow_redirects=True)
    assert "applied already" in again.get_data(as_text=True)
    assert client.post(f"{apply}/2").status_code == 303
    db.session.expire_all()
    workflow = db.session.get(Workflow, workflow.id)
    assert [s.type for s in workflow.steps] == ["http_request", "condition"]
    assert client.post(f"{apply}/9", follow_redirects=True).status_code == 200
    gone = client.post(f"{apply}/1", follow_redirects=True)  # step 2 still exists: it is removed now
    assert gone.status_code == 200
    db.session.expire_all()
    assert [s.type for s in db.session.get(Workflow, workflow.id).steps] == ["http_request"]

    # the retry setting is used: two 503s, then 200 → the run succeeds on the third call
    recorder.requests.clear()
    recorder.next_statuses = [503, 503]
    assert _run(client, org, workflow, run_jobs).status == "SUCCEEDED"
    assert len(recorder.requests) == 3

    # a failing provider: nothing charged
    workflow.name = "Ping [sandbox:fail]"
    db.session.commit()
    before = _balance(org)
    failed = client.post(f"/o/{org.slug}/ai/workflows/{workflow.id}/review", follow_redirects=True)
    assert "The AI service failed" in failed.get_data(as_text=True) and _balance(org) == before

    # members cannot (workflows are for owners and admins); another organization gets 404
    member = make_user()
    add_member(org, member, "MEMBER")
    outsider = make_user()
    other = make_org(outsider)
    db.session.commit()
    as_member = make_client()
    as_member.login(member.email)
    assert as_member.get(f"/o/{org.slug}/ai/workflows/{workflow.id}/review").status_code == 403
    as_outsider = make_client()
    as_outsider.login(outsider.email)
    assert as_outsider.get(f"/o/{other.slug}/ai/workflows/{workflow.id}/review").status_code == 404
    assert as_outsider.post(f"/o/{other.slug}/ai/workflows/{workflow.id}/review/{report.id}/apply/0").status_code == 404
