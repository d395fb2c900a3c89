"""Each trigger type starts a run: schedule (cron in the org's zone), inbound webhook, Tessera event."""

import json
from datetime import timedelta

import time_machine
from sqlalchemy import select

from tests.workflows.helpers import owner_setup
from webapp.core.events import emit
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.workflows import services
from webapp.workflows.jobs import dispatch_workflows
from webapp.workflows.models import Workflow, WorkflowRun


def _workflow(org, user, trigger_type, config=None, expression="true"):
    workflow = services.create_workflow(org, user, f"{trigger_type} flow", "", trigger_type, config or {})
    step = services.add_step(workflow, user, "condition")
    step.config = {"expression": expression}
    services.set_enabled(workflow, org, user, True)
    db.session.commit()
    return workflow


def _runs(workflow):
    db.session.expire_all()
    return db.session.scalars(select(WorkflowRun).where(WorkflowRun.workflow_id == workflow.id)).all()


def test_schedule_fires_once_per_occurrence_in_org_time_zone(client, ctx, run_jobs):
    user, org = owner_setup(client)  # org time zone Africa/Harare (UTC+2)
    with time_machine.travel("2026-11-23 05:00:00+00:00", tick=False):
        workflow = _workflow(org, user, "schedule", {"cron": "0 9 * * *"})
        assert workflow.next_run_at.isoformat() == "2026-11-23T07:00:00+00:00"  # 09:00 Harare
        dispatch_workflows()
        assert _runs(workflow) == []
    with time_machine.travel("2026-11-23 07:00:30+00:00", tick=False):
        dispatch_workflows()
        dispatch_workflows()  # a second dispatcher (or a re-run) does not start the same occurrence again
        run_jobs()
        runs = _runs(workflow)
        assert len(runs) == 1
        assert runs[0].trigger_type == "schedule" and runs[0].status == "SUCCEEDED"
        assert runs[0].trigger_payload["scheduled_for"].startswith("2026-11-23T07:00:00")
        assert db.session.get(Workflow, workflow.id).next_run_at.isoformat() == "2026-11-24T07:00:00+00:00"
    page = client.get(f"/o/{org.slug}/workflows/runs/{runs[0].id}").get_data(as_text=True)
    assert "Succeeded" in page and "Condition" in page


def test_webhook_starts_run_with_body_and_refuses_bad_calls(client, ctx, run_jobs, app):
    user, org = owner_setup(client)
    workflow = _workflow(org, user, "webhook", expression="trigger.amount > 5")
    secret = services.webhook_secret(workflow)
    editor = client.get(f"/o/{org.slug}/workflows/{workflow.id}").get_data(as_text=True)
    assert f"/webhooks/workflows/{workflow.id}/{secret}" in editor

    anonymous = app.test_client()
    url = f"/webhooks/workflows/{workflow.id}/{secret}"
    answer = anonymous.post(url, json={"amount": 12, "customer": "Rudo"})
    assert answer.status_code == 202
    run_id = answer.get_json()["run_id"]
    run_jobs()
    run = db.session.get(WorkflowRun, run_id)
    assert run.status == "SUCCEEDED" and run.trigger_payload["amount"] == 12
    assert run.trigger_payload["body"]["customer"] == "Rudo"

    assert anonymous.post(f"/webhooks/workflows/{workflow.id}/wrong-secret", json={}).status_code == 404
    too_big = anonymous.post(url, data="x" * 70_000, content_type="application/json")
    assert too_big.status_code == 413 and too_big.get_json()["error"]["code"] == "payload_too_large"

    # rotating the secret retires the old address
    client.post(f"/o/{org.slug}/workflows/{workflow.id}/rotate-secret")
    assert anonymous.post(url, json={"amount": 1}).status_code == 404
    db.session.expire_all()
    fresh = services.webhook_secret(db.session.get(Workflow, workflow.id))
    assert fresh != secret
    client.post(f"/o/{org.slug}/workflows/{workflow.id}/disable")
    disabled = anonymous.post(f"/webhooks/workflows/{workflow.id}/{fresh}", json={})
    assert disabled.status_code == 409 and disabled.get_json()["error"]["code"] == "workflow_disabled"
    assert len(_runs(workflow)) == 1


def test_tessera_event_starts_runs_of_matching_enabled_workflows_only(client, ctx, run_jobs):
    user, org = owner_setup(client)
    overdue = _workflow(org, user, "event", {"event": "invoice.overdue"}, expression="trigger.invoice_id == 77")
    _workflow(org, user, "event", {"event": "video.ready"})
    emit("invoice.overdue", org=org, invoice_id=77, account_id=1)
    emit("invoice.overdue", org=org.id + 1000, invoice_id=78)  # another organization's event
    db.session.commit()
    run_jobs()
    runs = db.session.scalars(select(WorkflowRun).where(WorkflowRun.organization_id == org.id)).all()
    assert [(r.workflow_id, r.status, r.trigger_payload["event"]) for r in runs] == [
        (overdue.id, "SUCCEEDED", "invoice.overdue")
    ]


def test_manual_run_from_the_editor_and_live_fragment(client, ctx, run_jobs):
    user, org = owner_setup(client)
    workflow = _workflow(org, user, "manual")
    started = client.post(f"/o/{org.slug}/workflows/{workflow.id}/run")
    assert started.status_code == 303
    run = _runs(workflow)[0]
    queued = client.get(f"/o/{org.slug}/workflows/runs/{run.id}", htmx=True, headers={"HX-Target": "runlog"})
    fragment = queued.get_data(as_text=True)
    assert "<html" not in fragment and "every 2s" in fragment  # still polling while queued
    run_jobs()
    db.session.expire_all()  # the test shares the request's session; the worker wrote in its own
    done = client.get(f"/o/{org.slug}/workflows/runs/{run.id}", htmx=True, headers={"HX-Target": "runlog"})
    assert "Succeeded" in done.get_data(as_text=True) and "every 2s" not in done.get_data(as_text=True)
    assert json.loads(json.dumps(_runs(workflow)[0].outputs))["1"] == {"holds": True}
    assert utcnow() - _runs(workflow)[0].completed_at < timedelta(minutes=1)
