"""Building workflows through the pages: create, steps (HTMX editor), enable/disable, duplicate, delete."""

from sqlalchemy import select

from tests.factories import make_org, make_user
from tests.workflows.helpers import owner_setup
from webapp.extensions import db
from webapp.workflows.models import Workflow, WorkflowStep


def _create(client, org, **data):
    form = {"name": "Nightly ping", "trigger_type": "manual", "max_concurrency": "1", **data}
    return client.post(f"/o/{org.slug}/workflows/new", form)


def test_create_edit_and_steps_through_htmx_editor(client, ctx):
    _, org = owner_setup(client)
    response = _create(client, org)
    assert response.status_code == 303
    workflow = db.session.scalar(select(Workflow).where(Workflow.organization_id == org.id))
    base = f"/o/{org.slug}/workflows/{workflow.id}"
    page = client.get(base).get_data(as_text=True)
    assert "Nightly ping" in page and "Add a step" in page

    # add steps: the editor answers with the steps fragment only
    added = client.post(f"{base}/steps", {"type": "condition"}, htmx=True)
    assert added.status_code == 200 and "<html" not in added.get_data(as_text=True)
    assert "Continue only if" in added.get_data(as_text=True)
    client.post(f"{base}/steps", {"type": "send_email"}, htmx=True)
    db.session.expire_all()
    first, second = db.session.get(Workflow, workflow.id).steps
    assert (first.type, second.type) == ("condition", "send_email")

    # invalid settings: the step's own form shows the error, nothing saved
    bad = client.post(f"{base}/steps/{first.id}", {f"s{first.id}-expression": "trigger.x >"}, htmx=True)
    assert bad.status_code == 422 and "Expression error" in bad.get_data(as_text=True)
    bad_mail = client.post(
        f"{base}/steps/{second.id}", {f"s{second.id}-to": "", f"s{second.id}-subject": "Hi"}, htmx=True
    )
    assert bad_mail.status_code == 422 and "This field is required" in bad_mail.get_data(as_text=True)

    ok = client.post(
        f"{base}/steps/{first.id}",
        {f"s{first.id}-expression": "trigger.amount > 5", f"s{first.id}-step_name": "Only big ones"},
        htmx=True,
    )
    assert ok.status_code == 200
    db.session.expire_all()
    step = db.session.get(WorkflowStep, first.id)
    assert step.config["expression"] == "trigger.amount > 5" and step.name == "Only big ones"

    # reorder and remove
    client.post(f"{base}/steps/{second.id}/move", {"direction": "up"}, htmx=True)
    db.session.expire_all()
    assert [s.type for s in db.session.get(Workflow, workflow.id).steps] == ["send_email", "condition"]
    client.post(f"{base}/steps/{second.id}/delete", htmx=True)
    db.session.expire_all()
    remaining = db.session.get(Workflow, workflow.id).steps
    assert [(s.type, s.position) for s in remaining] == [("condition", 1)]


def test_enable_disable_duplicate_delete(client, ctx):
    _, org = owner_setup(client)
    _create(client, org, name="Weekly report", trigger_type="schedule", cron="0 9 * * 1")
    workflow = db.session.scalar(select(Workflow).where(Workflow.organization_id == org.id))
    base = f"/o/{org.slug}/workflows/{workflow.id}"
    # no steps yet: refused with a message, stays off
    client.post(f"{base}/enable")
    db.session.expire_all()
    assert not db.session.get(Workflow, workflow.id).enabled
    client.post(f"{base}/steps", {"type": "wait"})
    client.post(f"{base}/enable")
    db.session.expire_all()
    workflow = db.session.get(Workflow, workflow.id)
    assert workflow.enabled and workflow.next_run_at is not None
    listing = client.get(f"/o/{org.slug}/workflows/").get_data(as_text=True)
    assert "Weekly report" in listing and "Schedule · 0 9 * * 1" in listing

    client.post(f"{base}/disable")
    db.session.expire_all()
    assert not db.session.get(Workflow, workflow.id).enabled
    assert db.session.get(Workflow, workflow.id).next_run_at is None

    copy = client.post(f"{base}/duplicate")
    assert copy.status_code == 303
    names = sorted(w.name for w in db.session.scalars(select(Workflow).where(Workflow.organization_id == org.id)))
    assert names == ["Copy of Weekly report", "Weekly report"]
    client.post(f"{base}/delete")
    db.session.expire_all()
    assert db.session.get(Workflow, workflow.id) is None


def test_bad_trigger_settings_are_refused_on_the_form(client, ctx):
    _, org = owner_setup(client)
    bad_cron = _create(client, org, trigger_type="schedule", cron="every monday")
    assert bad_cron.status_code == 422 and "cron expression with five fields" in bad_cron.get_data(as_text=True)
    no_event = _create(client, org, trigger_type="event", event="")
    assert no_event.status_code == 422 and "Choose an event" in no_event.get_data(as_text=True)
    assert db.session.scalar(select(Workflow).where(Workflow.organization_id == org.id)) is None


def test_roles_and_tenancy(client, make_client, ctx):
    owner = make_user()
    org = make_org(owner)
    client.login(owner.email)
    _create(client, org)
    workflow = db.session.scalar(select(Workflow).where(Workflow.organization_id == org.id))

    # a MEMBER may not manage workflows
    _, _ = None, None
    member_client = make_client()
    from tests.factories import add_member

    member = make_user()
    add_member(org, member, "MEMBER")
    member_client.login(member.email)
    assert member_client.get(f"/o/{org.slug}/workflows/").status_code == 403

    # an owner of another organization gets 404 for this one's workflow, also through their own slug
    stranger_client = make_client()
    stranger = make_user()
    other = make_org(stranger)
    stranger_client.login(stranger.email)
    assert stranger_client.get(f"/o/{org.slug}/workflows/{workflow.id}").status_code == 404
    assert stranger_client.get(f"/o/{other.slug}/workflows/{workflow.id}").status_code == 404
    assert stranger_client.post(f"/o/{other.slug}/workflows/{workflow.id}/delete").status_code == 404

    # no CSRF token: refused
    assert client.post(f"/o/{org.slug}/workflows/{workflow.id}/delete", csrf=False).status_code == 400


def test_dashboard_cards(client, ctx):
    _, org = owner_setup(client)
    page = client.get(f"/o/{org.slug}/").get_data(as_text=True)
    assert "workflows-panel" in page and "ai-panel" in page
