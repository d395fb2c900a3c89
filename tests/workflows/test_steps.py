"""Each step type against real endpoints, the run log, retry from the failed step."""

import base64
import html
import json
from datetime import timedelta

import time_machine
from sqlalchemy import select

from tests.factories import make_user
from tests.workflows.helpers import owner_setup
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.models import OutboundCall
from webapp.workflows import services
from webapp.workflows.jobs import dispatch_workflows
from webapp.workflows.models import CredentialUsage, PendingInvoiceLine, WorkflowRun, WorkflowStepRun

SECRET = "sk-live-SUPERSECRET-0123456789"


def _build(org, user, steps, trigger="manual"):
    """steps: [(type, config, credential)]"""
    workflow = services.create_workflow(org, user, "Test flow", "", trigger, {})
    for type_, config, credential in steps:
        step = services.add_step(workflow, user, type_)
        step.config = {**step.config, **config}
        step.credential_id = credential.id if credential else None
    db.session.commit()
    return workflow


def _start(client, org, workflow, run_jobs):
    response = client.post(f"/o/{org.slug}/workflows/{workflow.id}/run")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    run_jobs()
    db.session.expire_all()
    return db.session.scalars(
        select(WorkflowRun).where(WorkflowRun.workflow_id == workflow.id).order_by(WorkflowRun.id.desc())
    ).first()


def test_http_step_with_each_credential_kind_never_leaks_the_secret(client, ctx, run_jobs, http_server):
    recorder, url = http_server
    user, org = owner_setup(client)
    # credentials are created through the page; the secret is never shown again
    saved = client.post(
        f"/o/{org.slug}/workflows/credentials", {"name": "Chat token", "kind": "bearer", "secret": SECRET}
    )
    assert saved.status_code == 303
    client.post(
        f"/o/{org.slug}/workflows/credentials",
        {"name": "Partner key", "kind": "api_key_header", "header_name": "X-API-Key", "secret": SECRET + "k"},
    )
    client.post(
        f"/o/{org.slug}/workflows/credentials",
        {"name": "Legacy API", "kind": "basic", "username": "tessera", "secret": SECRET + "b"},
    )
    from webapp.workflows.models import WorkflowCredential

    bearer, header, basic = (
        db.session.scalar(select(WorkflowCredential).where(WorkflowCredential.name == n))
        for n in ("Chat token", "Partner key", "Legacy API")
    )
    workflow = _build(
        org,
        user,
        [
            (
                "http_request",
                {
                    "method": "POST",
                    "url": f"{url}/hooks/{{{{ trigger.started_by | urlencode }}}}",
                    "headers": "X-Trace: run-{{ run.id }}",
                    "body": '{"text": {{ ("Hello " ~ trigger.started_by) | json }}, "n": 3}',
                },
                bearer,
            ),
            (
                "http_request",
                {"method": "PUT", "url": f"{url}/partner", "body": '{"previous": {{ step1.status }}}'},
                header,
            ),
            ("http_request", {"method": "GET", "url": f"{url}/legacy", "body": ""}, basic),
        ],
    )
    run = _start(client, org, workflow, run_jobs)
    assert run.status == "SUCCEEDED", run.error_message
    first, second, third = recorder.requests
    assert first["method"] == "POST" and first["path"] == f"/hooks/{user.email.replace('@', '%40')}"
    assert first["headers"]["Authorization"] == f"Bearer {SECRET}"
    assert first["headers"]["X-Trace"] == f"run-{run.id}"
    assert json.loads(first["body"]) == {"text": f"Hello {user.email}", "n": 3}
    assert second["headers"]["X-API-Key"] == SECRET + "k" and json.loads(second["body"]) == {"previous": 200}
    assert third["headers"]["Authorization"] == "Basic " + base64.b64encode(f"tessera:{SECRET}b".encode()).decode()

    # every use is in the credential usage log
    uses = db.session.scalars(select(CredentialUsage).order_by(CredentialUsage.id)).all()
    assert [(u.credential_id, u.step_position, u.success, u.run_id) for u in uses] == [
        (bearer.id, 1, True, run.id),
        (header.id, 2, True, run.id),
        (basic.id, 3, True, run.id),
    ]
    # the calls are in the outbound-call log as provider workflow_http
    calls = db.session.scalars(select(OutboundCall).where(OutboundCall.provider == "workflow_http")).all()
    assert len(calls) == 3 and all(c.success for c in calls)

    # the server echoed the secrets back; none of it reaches a page, the run log or the call log
    pages = [
        client.get(f"/o/{org.slug}/workflows/runs/{run.id}"),
        client.get(f"/o/{org.slug}/workflows/credentials"),
        client.get(f"/o/{org.slug}/workflows/credentials/{bearer.id}"),
        client.get(f"/o/{org.slug}/workflows/{workflow.id}"),
    ]
    assert "[redacted]" in pages[0].get_data(as_text=True)
    for page in pages:
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "SUPERSECRET" not in text and base64.b64encode(f"tessera:{SECRET}b".encode()).decode() not in text
    for step_run in db.session.scalars(select(WorkflowStepRun)):
        assert "SUPERSECRET" not in (step_run.output_excerpt or "") + (step_run.error or "")
    assert "SUPERSECRET" not in json.dumps(run.outputs)
    for call in calls:
        assert "SUPERSECRET" not in json.dumps([call.endpoint, call.error, call.details])
    assert bearer.fingerprint.startswith("sha256:") and "SUPERSECRET" not in bearer.fingerprint


def test_failed_http_step_says_which_step_and_retry_resumes_there(client, ctx, run_jobs, http_server, mailbox):
    recorder, url = http_server
    user, org = owner_setup(client)
    credential = services.create_credential(org, user, name="Token", kind="bearer", secret=SECRET)
    workflow = _build(
        org,
        user,
        [
            ("send_email", {"to": "ops@example.com", "subject": "Starting", "body": "Run {{ run.id }}"}, None),
            ("http_request", {"method": "POST", "url": f"{url}/flaky", "body": '{"a": 1}'}, credential),
            ("condition", {"expression": "step2.status == 200"}, None),
        ],
    )
    recorder.status = 503
    recorder.reply = {"error": "maintenance"}
    run = _start(client, org, workflow, run_jobs)
    assert run.status == "FAILED" and run.failed_position == 2
    assert run.error_message.startswith("Step 2 (HTTP request) failed: workflow_http answered 503")
    page = client.get(f"/o/{org.slug}/workflows/runs/{run.id}").get_data(as_text=True)
    assert "Retry from step 2" in page and "answered 503" in page and "SUPERSECRET" not in page
    assert db.session.scalars(select(CredentialUsage)).one().success is False

    recorder.status = 200
    recorder.reply = {"ok": True}
    assert client.post(f"/o/{org.slug}/workflows/runs/{run.id}/retry").status_code == 303
    run_jobs()
    db.session.expire_all()
    run = db.session.get(WorkflowRun, run.id)
    assert run.status == "SUCCEEDED" and run.attempt == 2
    statuses = [(s.position, s.status, s.attempt) for s in run.step_runs]
    assert statuses == [(1, "SUCCEEDED", 1), (2, "FAILED", 1), (2, "SUCCEEDED", 2), (3, "SUCCEEDED", 2)]
    assert len(mailbox.to("ops@example.com")) == 1  # step 1 was not repeated
    # a succeeded run cannot be retried
    client.post(f"/o/{org.slug}/workflows/runs/{run.id}/retry")
    db.session.expire_all()
    assert db.session.get(WorkflowRun, run.id).attempt == 2


def test_email_notify_and_invoice_line_steps_and_staff_approval(client, make_client, ctx, run_jobs, mailbox):
    user, org = owner_setup(client)
    workflow = _build(
        org,
        user,
        [
            (
                "send_email",
                {
                    "to": "{{ trigger.started_by }}, boss@example.com",
                    "subject": "Report {{ run.id }}",
                    "body": "Hello from {{ workflow.name }}",
                },
                None,
            ),
            (
                "notify_members",
                {"roles": ["OWNER"], "title": "Heads up", "message": "Sent {{ step1.sent }} e-mails"},
                None,
            ),
            (
                "invoice_line",
                {"description": "Setup work for {{ trigger.started_by }}", "amount": "25.50", "currency": "USD"},
                None,
            ),
        ],
    )
    run = _start(client, org, workflow, run_jobs)
    assert run.status == "SUCCEEDED", run.error_message
    assert "Hello from Test flow" in mailbox.text(mailbox.last_to("boss@example.com"))
    from webapp.notifications.models import Notification

    note = db.session.scalars(select(Notification).where(Notification.user_id == user.id)).one()
    assert note.title == "Heads up" and note.body == "Sent 2 e-mails"
    line = db.session.scalars(select(PendingInvoiceLine)).one()
    assert (line.status, line.amount_cents, line.description) == ("PENDING", 2550, f"Setup work for {user.email}")

    staff = make_user(staff=True)
    staff_client = make_client()
    staff_client.login(staff.email)
    assert client.get("/admin/workflow-lines").status_code == 404  # customers never see the console
    listing = staff_client.get("/admin/workflow-lines").get_data(as_text=True)
    assert "Setup work for" in listing
    staff_client.post(f"/admin/workflow-lines/{line.id}/approve")
    db.session.expire_all()
    line = db.session.get(PendingInvoiceLine, line.id)
    assert line.status == "APPROVED" and line.decided_by_id == staff.id
    again = staff_client.post(f"/admin/workflow-lines/{line.id}/reject")
    assert again.status_code == 303
    db.session.expire_all()
    assert db.session.get(PendingInvoiceLine, line.id).status == "APPROVED"
    # the billing run picks approved lines up exactly once
    from webapp.billing.services import billing_account_for
    from webapp.workflows.bridges import approved_lines_for_billing_run

    account = billing_account_for(org)
    specs = approved_lines_for_billing_run(account, "2026-11-01", "2026-11-30")
    assert [(s.description, s.unit_price) for s in specs] == [(f"Setup work for {user.email}", 2550)]
    assert approved_lines_for_billing_run(account, "2026-11-01", "2026-11-30") == []


def test_wait_then_resume_and_condition_stops(client, ctx, run_jobs, mailbox):
    user, org = owner_setup(client)
    workflow = _build(
        org,
        user,
        [
            ("wait", {"minutes": 10}, None),
            ("condition", {"expression": "trigger.started_by.endswith('@nowhere.test')"}, None),
            ("send_email", {"to": "never@example.com", "subject": "x", "body": "x"}, None),
        ],
    )
    run = _start(client, org, workflow, run_jobs)
    assert run.status == "QUEUED" and run.resume_at > utcnow() + timedelta(minutes=9)
    assert "Waiting until" in client.get(f"/o/{org.slug}/workflows/runs/{run.id}").get_data(as_text=True)
    dispatch_workflows()
    run_jobs()
    db.session.expire_all()
    assert db.session.get(WorkflowRun, run.id).status == "QUEUED"  # not yet
    with time_machine.travel(utcnow() + timedelta(minutes=11)):
        dispatch_workflows()
        run_jobs()
    db.session.expire_all()
    run = db.session.get(WorkflowRun, run.id)
    assert run.status == "SUCCEEDED"
    assert [(s.position, s.status) for s in run.step_runs] == [(1, "SUCCEEDED"), (2, "SUCCEEDED"), (3, "SKIPPED")]
    assert mailbox.to("never@example.com") == []


def test_create_ticket_step_opens_a_real_ticket(client, ctx, run_jobs):
    user, org = owner_setup(client)
    workflow = _build(
        org,
        user,
        [
            (
                "create_ticket",
                {"subject": "Connection {{ trigger.started_by }}", "description": "Please check", "priority": "HIGH"},
                None,
            ),
        ],
    )
    run = _start(client, org, workflow, run_jobs)
    assert run.status == "SUCCEEDED", run.error_message
    from webapp.support.models import SupportTicket

    ticket = db.session.get(SupportTicket, run.outputs["1"]["ticket_id"])
    assert ticket.organization_id == org.id and ticket.priority == "HIGH"
    assert ticket.subject == f"Connection {user.email}"


def test_schedule_post_step_explains_a_missing_account(client, ctx, run_jobs):
    user, org = owner_setup(client)
    workflow = _build(
        org,
        user,
        [("schedule_post", {"video_id": "{{ trigger.video_id }}", "platforms": ["tiktok"], "caption": "New"}, None)],
    )
    run = _start(client, org, workflow, run_jobs)
    assert run.status == "FAILED"
    assert "has no attribute 'video_id'" in run.error_message  # a manual run has no video in its trigger


def test_oauth_connection_credential_uses_the_integrations_token(client, ctx, run_jobs, http_server):
    recorder, url = http_server
    user, org = owner_setup(client)
    from webapp.integrations.models import Connection
    from webapp.secrets import encrypt_field

    connection = Connection(
        organization_id=org.id,
        created_by_id=user.id,
        provider="freee",
        account_id="co-1",
        account_name="Demo company",
        status=Connection.CONNECTED,
        token_expires_at=utcnow() + timedelta(hours=3),
    )
    db.session.add(connection)
    db.session.flush()
    encrypt_field(connection, "access_token", "oauth-ACCESS-TOKEN-abcdef")
    db.session.commit()
    saved = client.post(
        f"/o/{org.slug}/workflows/credentials",
        {"name": "freee", "kind": "oauth_connection", "connection_id": str(connection.id)},
    )
    assert saved.status_code == 303
    from webapp.workflows.models import WorkflowCredential

    credential = db.session.scalar(select(WorkflowCredential).where(WorkflowCredential.name == "freee"))
    assert credential.fingerprint == f"connection #{connection.id}"
    # another organization's connection cannot be chosen
    from tests.factories import make_org

    other_org = make_org(make_user())
    foreign = Connection(organization_id=other_org.id, provider="freee", account_id="co-2", status="CONNECTED")
    db.session.add(foreign)
    db.session.commit()
    refused = client.post(
        f"/o/{org.slug}/workflows/credentials",
        {"name": "stolen", "kind": "oauth_connection", "connection_id": str(foreign.id)},
    )
    assert refused.status_code == 422
    assert "this organization's connections" in html.unescape(refused.get_data(as_text=True))

    workflow = _build(org, user, [("http_request", {"method": "GET", "url": f"{url}/me", "body": ""}, credential)])
    run = _start(client, org, workflow, run_jobs)
    assert run.status == "SUCCEEDED", run.error_message
    assert recorder.requests[0]["headers"]["Authorization"] == "Bearer oauth-ACCESS-TOKEN-abcdef"
    assert "ACCESS-TOKEN" not in json.dumps(run.outputs)


def test_video_ready_event_schedules_a_post_through_the_studio(client, ctx, run_jobs):
    user, org = owner_setup(client)
    from webapp.core.events import emit
    from webapp.integrations.models import Connection
    from webapp.studio.models import Post, Video

    video = Video(
        organization_id=org.id,
        created_by_id=user.id,
        title="Harare sunrise",
        storage_key=f"v/{org.id}",
        format="mp4",
        status=Video.READY,
        duration_ms=8000,
        width=1080,
        height=1920,
        aspect_ratio="9:16",
    )
    account = Connection(
        organization_id=org.id,
        created_by_id=user.id,
        provider="instagram",
        account_id="ig-1",
        account_name="harare_creator",
        status=Connection.CONNECTED,
    )
    db.session.add_all([video, account])
    db.session.commit()
    workflow = services.create_workflow(org, user, "Post ready videos", "", "event", {"event": "video.ready"})
    step = services.add_step(workflow, user, "schedule_post")
    step.config = {
        **step.config,
        "platforms": ["instagram"],
        "caption": "{{ trigger.title }}",
        "hashtags": "#harare #sunrise",
        "delay_minutes": 30,
    }
    services.set_enabled(workflow, org, user, True)
    db.session.commit()

    emit("video.ready", org=org, video_id=video.id, title=video.title)
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    run = db.session.scalars(select(WorkflowRun).where(WorkflowRun.workflow_id == workflow.id)).one()
    assert run.status == "SUCCEEDED", run.error_message
    post = db.session.get(Post, run.outputs["1"]["post_ids"][0])
    assert post.organization_id == org.id and post.video_id == video.id and post.caption == "Harare sunrise"
    assert post.hashtags == ["harare", "sunrise"]
    assert post.scheduled_at > utcnow() + timedelta(minutes=25)
