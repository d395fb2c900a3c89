"""Staff suspend and reactivate an organization from the console: reason required, audited, owners
e-mailed, one effect for a double press; while suspended members see a page that says so, the API
refuses its keys with ``organization_suspended``, its jobs wait (not fail) and resume on reactivation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.api.helpers import bearer
from tests.developers.conftest import receiver  # noqa: F401 (the loopback webhook receiver fixture)
from tests.developers.helpers import endpoint_for
from tests.factories import add_member, make_org, make_user
from webapp.api import services as keys
from webapp.audit.models import AuditEntry
from webapp.developers import services as hooks
from webapp.developers.models import WebhookDelivery
from webapp.extensions import db
from webapp.orgs.models import Organization

SUSPENDED_TEXT = "This organization is suspended — contact support"


@pytest.fixture
def setup(ctx, make_client):
    owner = make_user("owner@suspend.example", name="Olive Owner")
    org = make_org(owner, "Suspend Co", "suspend-co")
    member = make_user("member@suspend.example")
    add_member(org, member, "MEMBER")
    make_user("ops@suspend.example", staff=True)
    staff = make_client()
    staff.login("ops@suspend.example")
    return {"owner": owner, "org": org, "member": member, "staff": staff}


def _audit(action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def _org(org_id) -> Organization:
    db.session.expire_all()
    return db.session.get(Organization, org_id)


def test_suspend_needs_a_reason_is_audited_mails_owners_and_a_double_press_has_one_effect(setup, mailbox, run_jobs):
    org, staff = setup["org"], setup["staff"]
    url = f"/admin/orgs/{org.id}/suspend"
    blank = staff.post(url, {"reason": "  "})
    assert blank.status_code == 422 and "Say why the organization is suspended" in blank.get_data(as_text=True)
    assert _org(org.id).suspended_at is None
    first = staff.post(url, {"reason": "Chargebacks under review"})
    assert first.status_code == 303
    second = staff.post(url, {"reason": "Chargebacks under review"}, follow_redirects=True)
    assert "already suspended" in second.get_data(as_text=True)
    suspended = _org(org.id)
    assert suspended.is_suspended and suspended.suspended_reason == "Chargebacks under review"
    entries = _audit("organization.suspended")
    assert len(entries) == 1 and entries[0].details["reason"] == "Chargebacks under review"
    run_jobs()
    mails = [m for m in mailbox.to("owner@suspend.example") if m["Subject"] == "Suspend Co is suspended on Tessera"]
    assert len(mails) == 1 and "Chargebacks under review" in mailbox.text(mails[0])
    # owners are told, not every member
    assert not [m for m in mailbox.to("member@suspend.example") if "suspended" in m["Subject"]]
    detail = staff.get(f"/admin/orgs/{org.id}").get_data(as_text=True)
    assert "Suspended" in detail and "Reactivate" in detail  # staff still open it in the console


def test_members_see_the_suspended_page_not_a_500(setup, make_client):
    org, staff = setup["org"], setup["staff"]
    staff.post(f"/admin/orgs/{org.id}/suspend", {"reason": "Fraud check"})
    member = make_client()
    member.login("member@suspend.example")
    for path in ("/", "/members", "/files/", "/billing/"):
        response = member.get(f"/o/{org.slug}{path}")
        assert response.status_code == 403, path
        assert SUSPENDED_TEXT in response.get_data(as_text=True), path
    # a write is refused the same way, with nothing written
    response = member.post(f"/o/{org.slug}/members/invite", {"email": "x@suspend.example", "role": "MEMBER"})
    assert response.status_code == 403 and SUSPENDED_TEXT in response.get_data(as_text=True)
    # their account page still works
    assert member.get("/account/").status_code == 200
    staff.post(f"/admin/orgs/{org.id}/reactivate")
    assert member.get(f"/o/{org.slug}/").status_code == 200


def test_the_api_refuses_a_suspended_organizations_keys_with_a_stable_code(setup, client):
    org, owner, staff = setup["org"], setup["owner"], setup["staff"]
    _key, plain = keys.create_key(org, owner, "k", ["invoices:read"], 1000, None)
    db.session.commit()
    assert client.get("/api/v1/invoices", headers=bearer(plain)).status_code == 200
    staff.post(f"/admin/orgs/{org.id}/suspend", {"reason": "Abuse report"})
    refused = client.get("/api/v1/invoices", headers=bearer(plain))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "organization_suspended"
    staff.post(f"/admin/orgs/{org.id}/reactivate")
    assert client.get("/api/v1/invoices", headers=bearer(plain)).status_code == 200


def test_webhook_deliveries_wait_while_suspended_and_go_out_on_reactivation(setup, receiver, run_jobs):  # noqa: F811
    org, owner, staff = setup["org"], setup["owner"], setup["staff"]
    endpoint, _secret = endpoint_for(org, owner, receiver.url)
    staff.post(f"/admin/orgs/{org.id}/suspend", {"reason": "Paused for review"})
    hooks.record_event(org.id, "invoice.paid", {"object": "invoice", "id": 1})
    db.session.commit()
    run_jobs()
    assert hooks.wake_due() == 0  # the safety net leaves it out too
    assert hooks.deliver_next(endpoint.id) == "paused"
    db.session.commit()
    db.session.expire_all()
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    assert delivery.status == "PENDING" and delivery.attempts == 0  # waited, not failed
    assert receiver.events() == []
    staff.post(f"/admin/orgs/{org.id}/reactivate")
    assert hooks.wake_due() == 1
    db.session.commit()
    run_jobs()
    assert len(receiver.events()) == 1
    db.session.expire_all()
    assert db.session.get(WebhookDelivery, delivery.id).status != "PENDING"


def test_workflow_runs_wait_while_suspended_and_run_after_reactivation(setup, run_jobs):
    from webapp.workflows import services as flows
    from webapp.workflows.execution import execute, start_run
    from webapp.workflows.models import WorkflowRun

    org, owner, staff = setup["org"], setup["owner"], setup["staff"]
    workflow = flows.create_workflow(org, owner, "Nightly check")
    step = flows.add_step(workflow, owner, "condition")
    step.config = {"expression": "true"}
    db.session.commit()
    staff.post(f"/admin/orgs/{org.id}/suspend", {"reason": "Paused for review"})
    run = start_run(workflow, "manual", {})
    db.session.commit()
    run_jobs()
    assert execute(run.id) is None  # not claimed
    db.session.expire_all()
    assert db.session.get(WorkflowRun, run.id).status == WorkflowRun.QUEUED
    staff.post(f"/admin/orgs/{org.id}/reactivate")
    db.session.expire_all()
    assert execute(run.id) == WorkflowRun.SUCCEEDED


def test_reactivation_is_audited_and_tells_owners(setup, mailbox, run_jobs):
    org, staff = setup["org"], setup["staff"]
    assert staff.post(f"/admin/orgs/{org.id}/reactivate", follow_redirects=True).status_code == 200
    assert _audit("organization.reactivated") == []  # not suspended: refused, nothing recorded
    staff.post(f"/admin/orgs/{org.id}/suspend", {"reason": "Review"})
    staff.post(f"/admin/orgs/{org.id}/reactivate")
    assert not _org(org.id).is_suspended
    assert len(_audit("organization.reactivated")) == 1
    run_jobs()
    subjects = [m["Subject"] for m in mailbox.to("owner@suspend.example")]
    assert "Suspend Co is active again on Tessera" in subjects


def test_only_staff_reach_the_suspension_controls(setup, make_client):
    org = setup["org"]
    for email in ("owner@suspend.example", "member@suspend.example"):
        customer = make_client()
        customer.login(email)
        assert customer.post(f"/admin/orgs/{org.id}/suspend", {"reason": "x"}).status_code == 404
        assert customer.post(f"/admin/orgs/{org.id}/reactivate").status_code == 404
    assert not _org(org.id).is_suspended
    assert setup["staff"].post("/admin/orgs/999999/suspend", {"reason": "x"}).status_code == 404
