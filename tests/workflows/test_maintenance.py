"""Retention pruning, the per-workflow concurrency limit, credentials pages, the templates marketplace."""

from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import make_user
from tests.workflows.helpers import owner_setup
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.workflows import execution, services
from webapp.workflows.jobs import prune_workflow_runs
from webapp.workflows.models import CredentialUsage, Workflow, WorkflowRun, WorkflowStepRun, WorkflowTemplate


def _run(org, workflow, status, completed_days_ago=None):
    run = WorkflowRun(
        organization_id=org.id, workflow_id=workflow.id, trigger_type="manual", status=status, trigger_payload={}
    )
    if completed_days_ago is not None:
        run.completed_at = utcnow() - timedelta(days=completed_days_ago)
    db.session.add(run)
    db.session.flush()
    db.session.add(WorkflowStepRun(run_id=run.id, position=1, step_type="wait", status="SUCCEEDED"))
    return run


def test_retention_pruning_keeps_recent_and_unfinished_runs(client, ctx):
    user, org = owner_setup(client)
    workflow = services.create_workflow(org, user, "Pruned")
    credential = services.create_credential(org, user, name="K", kind="bearer", secret="abcd-efgh-ijkl")
    old = _run(org, workflow, "SUCCEEDED", 20)
    old_failed = _run(org, workflow, "FAILED", 15)
    recent = _run(org, workflow, "SUCCEEDED", 3)
    waiting = _run(org, workflow, "QUEUED")
    db.session.add(
        CredentialUsage(
            organization_id=org.id,
            credential_id=credential.id,
            workflow_id=workflow.id,
            run_id=old.id,
            step_position=1,
            success=True,
        )
    )
    db.session.commit()
    ids = (old.id, old_failed.id, recent.id, waiting.id)
    assert prune_workflow_runs() == 2
    db.session.expire_all()
    assert [i for i in ids if db.session.get(WorkflowRun, i) is not None] == [recent.id, waiting.id]
    assert db.session.scalar(select(func.count(WorkflowStepRun.id))) == 2
    # the credential usage log outlives the run it points at
    assert db.session.scalars(select(CredentialUsage)).one().run_id is None

    from webapp.settings.services import update_setting

    update_setting("workflows.retention_days", "2", None)
    db.session.commit()
    assert prune_workflow_runs() == 1


def test_concurrency_limit_leaves_excess_runs_queued(client, ctx, run_jobs):
    user, org = owner_setup(client)
    workflow = services.create_workflow(org, user, "One at a time")
    services.add_step(workflow, user, "condition").config = {"expression": "true"}
    first = _run(org, workflow, "QUEUED")
    second = _run(org, workflow, "QUEUED")
    db.session.commit()
    assert execution.claim(first.id) is not None
    assert execution.claim(second.id) is None  # the one slot is taken
    db.session.expire_all()
    assert db.session.get(WorkflowRun, second.id).status == "QUEUED"
    workflow = db.session.get(Workflow, workflow.id)
    workflow.max_concurrency = 2
    db.session.commit()
    assert execution.claim(second.id) is not None


def test_credential_form_refusals_and_delete(client, ctx):
    _, org = owner_setup(client)
    base = f"/o/{org.slug}/workflows/credentials"
    no_secret = client.post(base, {"name": "Empty", "kind": "bearer", "secret": ""})
    assert no_secret.status_code == 422 and "Enter the secret" in no_secret.get_data(as_text=True)
    no_header = client.post(base, {"name": "Key", "kind": "api_key_header", "secret": "topsecret-value-1"})
    body = no_header.get_data(as_text=True)
    assert no_header.status_code == 422 and "header name" in body and "topsecret-value-1" not in body
    client.post(base, {"name": "Good", "kind": "bearer", "secret": "topsecret-value-2"})
    dup = client.post(base, {"name": "Good", "kind": "bearer", "secret": "x-y-z-w"})
    assert dup.status_code == 422 and "exists" in dup.get_data(as_text=True)
    from webapp.workflows.models import WorkflowCredential

    credential = db.session.scalar(select(WorkflowCredential).where(WorkflowCredential.name == "Good"))
    client.post(f"{base}/{credential.id}/delete")
    db.session.expire_all()
    credential = db.session.get(WorkflowCredential, credential.id)
    assert credential.revoked_at is not None and credential.secret_ciphertext is None
    assert client.get(f"{base}/{credential.id}").status_code == 404


TEMPLATE = {
    "trigger": {"type": "event", "event": "invoice.overdue"},
    "credentials": {"chat": {"kind": "bearer", "label": "Chat webhook token"}},
    "steps": [
        {
            "type": "http_request",
            "name": "Tell the chat",
            "credential": "chat",
            "config": {"method": "POST", "url": "https://hooks.example.com/x", "body": '{"text": "overdue"}'},
        }
    ],
}


def test_staff_publish_customers_install_then_fill_credentials(client, make_client, ctx):
    import json

    staff = make_user(staff=True)
    staff_client = make_client()
    staff_client.login(staff.email)
    bad = staff_client.post(
        "/admin/workflow-templates/new",
        {
            "name": "Broken",
            "slug": "broken",
            "category": "Billing",
            "definition": json.dumps({"steps": [{"type": "http_request", "config": {"url": "ftp://x"}}]}),
            "published": "y",
        },
    )
    assert bad.status_code == 422 and "Step 1 (HTTP request), url" in bad.get_data(as_text=True)
    saved = staff_client.post(
        "/admin/workflow-templates/new",
        {
            "name": "Chat on overdue invoice",
            "slug": "chat-overdue",
            "category": "Billing",
            "description": "Tell the team chat when an invoice turns overdue.",
            "definition": json.dumps(TEMPLATE),
            "published": "y",
        },
    )
    assert saved.status_code == 303
    template = db.session.scalar(select(WorkflowTemplate).where(WorkflowTemplate.slug == "chat-overdue"))

    user, org = owner_setup(client)
    listing = client.get(f"/o/{org.slug}/workflows/templates").get_data(as_text=True)
    assert "Chat on overdue invoice" in listing
    preview = client.get(f"/o/{org.slug}/workflows/templates/preview?template={template.id}").get_data(as_text=True)
    assert "Tell the chat" in preview and "Chat webhook token" in preview
    installed = client.post(f"/o/{org.slug}/workflows/templates/preview?template={template.id}", {})
    assert installed.status_code == 303
    workflow = db.session.scalar(select(Workflow).where(Workflow.organization_id == org.id))
    assert workflow.template_id == template.id and workflow.missing_credentials
    client.post(f"/o/{org.slug}/workflows/{workflow.id}/enable")
    db.session.expire_all()
    assert not db.session.get(Workflow, workflow.id).enabled  # refused until credentials are chosen

    credential = services.create_credential(org, user, name="Team chat", kind="bearer", secret="xoxb-123456")
    db.session.commit()
    step = db.session.get(Workflow, workflow.id).steps[0]
    page = client.get(f"/o/{org.slug}/workflows/{workflow.id}").get_data(as_text=True)
    assert "Needs a credential: chat" in page and "Team chat" in page
    client.post(
        f"/o/{org.slug}/workflows/{workflow.id}/steps/{step.id}",
        {
            f"s{step.id}-method": "POST",
            f"s{step.id}-url": "https://hooks.example.com/x",
            f"s{step.id}-body": '{"text": "overdue"}',
            f"s{step.id}-credential_id": str(credential.id),
        },
    )
    client.post(f"/o/{org.slug}/workflows/{workflow.id}/enable")
    db.session.expire_all()
    workflow = db.session.get(Workflow, workflow.id)
    assert workflow.enabled and workflow.steps[0].credential_id == credential.id
    assert db.session.get(WorkflowTemplate, template.id).install_count == 1

    # unpublished templates are invisible to customers
    template.published = False
    db.session.commit()
    assert client.get(f"/o/{org.slug}/workflows/templates/preview?template={template.id}").status_code == 404


def test_cancel_a_waiting_run(client, ctx, run_jobs):
    user, org = owner_setup(client)
    workflow = services.create_workflow(org, user, "Slow")
    services.add_step(workflow, user, "wait").config = {"minutes": 60}
    services.add_step(workflow, user, "condition").config = {"expression": "true"}
    db.session.commit()
    client.post(f"/o/{org.slug}/workflows/{workflow.id}/run")
    run_jobs()
    db.session.expire_all()
    run = db.session.scalars(select(WorkflowRun).where(WorkflowRun.workflow_id == workflow.id)).one()
    assert run.status == "QUEUED" and run.is_waiting
    assert client.post(f"/o/{org.slug}/workflows/runs/{run.id}/cancel").status_code == 303
    db.session.expire_all()
    run = db.session.get(WorkflowRun, run.id)
    assert run.status == "CANCELLED" and run.resume_at is None
    assert execution.execute(run.id) is None  # a cancelled run never starts again
    page = client.get(f"/o/{org.slug}/workflows/runs/{run.id}").get_data(as_text=True)
    assert "Cancelled" in page and "Retry" not in page
