"""AI on projects through the routes, against the AI sandbox: proposed tasks reviewed then created once,
and the project analysis with its figures beside the AI's narrative. Failures charge nothing."""

from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import add_member, make_org, make_user
from webapp.ai import credits
from webapp.ai.models import AiCreditBalance, AiReport, AiTaskProposal, AiUsageLog
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.projects import services as projects
from webapp.projects.models import Project, Task


def _setup(client, credits_bonus=500):
    owner = make_user(name="Olivia Owner")
    org = make_org(owner)
    member = make_user(name="Mpho Member")
    add_member(org, member, "MEMBER")
    credits.balance_of(org)
    if credits_bonus:
        credits.adjust(org, owner, credits_bonus, "BONUS", "Test credits")
    project = projects.create_project(org, owner, "Spring launch")
    db.session.commit()
    client.login(owner.email)
    return owner, member, org, project


def _balance(org) -> int:
    db.session.expire_all()
    return db.session.scalar(select(AiCreditBalance.balance).where(AiCreditBalance.organization_id == org.id))


def _usage(org, service):
    db.session.expire_all()
    return db.session.scalars(
        select(AiUsageLog).where(AiUsageLog.organization_id == org.id, AiUsageLog.service == service)
    ).all()


def _tasks(project_id) -> list[Task]:
    db.session.expire_all()
    return db.session.scalars(select(Task).where(Task.project_id == project_id).order_by(Task.id)).all()


def test_goal_to_proposal_to_tasks_once(client, ctx):
    owner, member, org, project = _setup(client)
    before = _balance(org)
    page = client.get(f"/o/{org.slug}/ai/projects/{project.id}/tasks")
    assert page.status_code == 200 and "Propose tasks" in page.get_data(as_text=True)

    goal = "Brief the designer, shoot three videos and publish the teaser on TikTok"
    asked = client.post(f"/o/{org.slug}/ai/projects/{project.id}/tasks", {"goal": goal})
    assert asked.status_code == 303, asked.get_data(as_text=True)[:1500]
    proposal = db.session.scalar(select(AiTaskProposal).where(AiTaskProposal.project_id == project.id))
    assert asked.headers["Location"].endswith(f"/ai/proposals/{proposal.id}")
    assert [t["title"] for t in proposal.tasks] == [
        "Brief the designer",
        "Shoot three videos",
        "Publish the teaser on TikTok",
    ]
    assert [t["due_in_days"] for t in proposal.tasks] == [3, 6, 9]
    # the sandbox assigns round-robin over the members named in the prompt (sorted by name)
    assert [t["assignee_id"] for t in proposal.tasks] == [member.id, owner.id, member.id]
    [log] = _usage(org, "TASK_GENERATION")
    assert log.success and log.credits_used > 0 and proposal.usage_log_id == log.id
    assert _balance(org) == before - log.credits_used
    assert _tasks(project.id) == []  # nothing is created before the review

    # the page after the redirect (and a reload of it) reads the stored proposal: no second AI call
    for _ in range(2):
        review = client.get(f"/o/{org.slug}/ai/proposals/{proposal.id}")
        text = review.get_data(as_text=True)
        assert review.status_code == 200 and "Written by AI" in text and "Shoot three videos" in text
    assert len(_usage(org, "TASK_GENERATION")) == 1

    today = utcnow().date()
    form = {
        "keep_0": "1",
        "title_0": "Brief the designer (edited)",
        "description_0": "Mood board first",
        "due_0": (today + timedelta(days=2)).isoformat(),
        "assignee_0": str(owner.id),
        "title_1": "Shoot three videos",
        "due_1": "",
        "assignee_1": str(owner.id),  # not kept: dropped
        "keep_2": "1",
        "title_2": "Publish the teaser on TikTok",
        "due_2": (today + timedelta(days=9)).isoformat(),
        "assignee_2": "",
    }
    created = client.post(f"/o/{org.slug}/ai/proposals/{proposal.id}/accept", form)
    assert created.status_code == 303 and created.headers["Location"].endswith(f"/projects/{project.id}")
    tasks = _tasks(project.id)
    assert [(t.title, t.assignee_id, t.description) for t in tasks] == [
        ("Brief the designer (edited)", owner.id, "Mood board first"),
        ("Publish the teaser on TikTok", None, ""),
    ]
    assert tasks[0].due_date == today + timedelta(days=2)
    # the same POST again (double submit, or a reload that resends it) creates nothing more
    again = client.post(f"/o/{org.slug}/ai/proposals/{proposal.id}/accept", form)
    assert again.status_code == 303 and len(_tasks(project.id)) == 2
    assert len(_usage(org, "TASK_GENERATION")) == 1
    closed = client.get(f"/o/{org.slug}/ai/proposals/{proposal.id}").get_data(as_text=True)
    assert "Create the tasks kept" not in closed and "Brief the designer (edited)" in closed


def test_edited_proposal_with_bad_input_is_refused_on_the_page(client, ctx):
    _owner, _member, org, project = _setup(client)
    client.post(f"/o/{org.slug}/ai/projects/{project.id}/tasks", {"goal": "Write the brief and book the studio"})
    proposal = db.session.scalar(select(AiTaskProposal).where(AiTaskProposal.project_id == project.id))
    bad_date = client.post(
        f"/o/{org.slug}/ai/proposals/{proposal.id}/accept", {"keep_0": "1", "title_0": "x", "due_0": "2026-02-31"}
    )
    assert bad_date.status_code == 422 and "That day does not exist" in bad_date.get_data(as_text=True)
    none_kept = client.post(f"/o/{org.slug}/ai/proposals/{proposal.id}/accept", {"title_0": "x"})
    assert none_kept.status_code == 422 and "Keep at least one task" in none_kept.get_data(as_text=True)
    no_title = client.post(f"/o/{org.slug}/ai/proposals/{proposal.id}/accept", {"keep_0": "1", "title_0": " "})
    assert no_title.status_code == 422 and "needs a title" in no_title.get_data(as_text=True)
    stranger = make_user()
    other = client.post(
        f"/o/{org.slug}/ai/proposals/{proposal.id}/accept",
        {"keep_0": "1", "title_0": "x", "assignee_0": str(stranger.id)},
    )
    assert other.status_code == 422 and "member of this organization" in other.get_data(as_text=True)
    assert _tasks(project.id) == []
    discarded = client.post(f"/o/{org.slug}/ai/proposals/{proposal.id}/discard")
    assert discarded.status_code == 303
    db.session.refresh(proposal)
    assert proposal.status == AiTaskProposal.DISCARDED


def test_failures_charge_nothing_and_say_so(client, ctx):
    _owner, _member, org, project = _setup(client)
    before = _balance(org)
    for marker in ("[sandbox:fail]", "[sandbox:badjson]", "[sandbox:wrongshape]"):
        answer = client.post(
            f"/o/{org.slug}/ai/projects/{project.id}/tasks", {"goal": f"Plan the launch party {marker}"}
        )
        text = answer.get_data(as_text=True)
        assert answer.status_code == 422, text[:1000]
        assert "nothing was charged" in text or "were refunded" in text
        assert _balance(org) == before
    logs = _usage(org, "TASK_GENERATION")
    assert len(logs) == 3 and not any(log.success for log in logs) and all(log.credits_used == 0 for log in logs)
    assert db.session.scalar(select(func.count(AiTaskProposal.id))) == 0

    # not enough credits: refused before the provider is asked
    db.session.execute(
        AiCreditBalance.__table__.update()
        .where(AiCreditBalance.organization_id == org.id)
        .values(balance=0, grant_remaining=0)
    )
    db.session.commit()
    broke = client.post(f"/o/{org.slug}/ai/projects/{project.id}/tasks", {"goal": "Plan the launch party now"})
    assert broke.status_code == 422 and "Not enough AI credits" in broke.get_data(as_text=True)
    # a button without a form: the limit's own message on the page it came from, not a role refusal
    analysis = f"/o/{org.slug}/ai/projects/{project.id}/analysis"
    refused = client.post(analysis)
    assert refused.status_code == 303 and refused.headers["Location"].endswith(analysis)
    page = client.get(analysis).get_data(as_text=True)
    assert "Not enough AI credits" in page and "does not allow" not in page


def test_roles_and_other_organizations(client, make_client, ctx):
    _owner, _member, org, project = _setup(client)
    client.post(f"/o/{org.slug}/ai/projects/{project.id}/tasks", {"goal": "Write the brief and book the studio"})
    proposal = db.session.scalar(select(AiTaskProposal).where(AiTaskProposal.project_id == project.id))
    billing = make_user()
    add_member(org, billing, "BILLING")
    db.session.commit()
    client = make_client()
    client.login(billing.email)
    assert client.get(f"/o/{org.slug}/ai/projects/{project.id}/tasks").status_code == 403
    assert client.get(f"/o/{org.slug}/ai/projects/{project.id}/analysis").status_code == 403
    assert client.post(f"/o/{org.slug}/ai/proposals/{proposal.id}/accept", {"keep_0": "1"}).status_code == 403

    outsider = make_user()
    other_org = make_org(outsider)
    db.session.commit()
    client = make_client()
    client.login(outsider.email)
    assert client.get(f"/o/{org.slug}/ai/proposals/{proposal.id}").status_code == 404
    # their own slug with our ids
    assert client.get(f"/o/{other_org.slug}/ai/proposals/{proposal.id}").status_code == 404
    assert client.post(f"/o/{other_org.slug}/ai/projects/{project.id}/analysis").status_code == 404
    assert client.post(f"/o/{other_org.slug}/ai/proposals/{proposal.id}/accept", {"keep_0": "1"}).status_code == 404


def test_project_analysis_figures_beside_the_ai_narrative(client, make_client, ctx):
    owner, member, org, project = _setup(client)
    today = utcnow().date()
    late = projects.create_task(project, owner, "Print the flyers")
    late.due_date, late.assignee_id = today - timedelta(days=3), member.id
    orphan = projects.create_task(project, owner, "Book the venue")
    orphan.due_date = today - timedelta(days=1)
    stuck = projects.create_task(project, owner, "Edit the teaser")
    projects.move_task(stuck, owner, Task.DOING)
    stuck.assignee_id = member.id
    done = projects.create_task(project, owner, "Pick a date")
    projects.move_task(done, owner, Task.DONE)
    db.session.commit()
    db.session.execute(
        Task.__table__.update().where(Task.id == stuck.id).values(updated_at=utcnow() - timedelta(days=10))
    )
    db.session.commit()

    member_client = make_client()
    page = client.get(f"/o/{org.slug}/ai/projects/{project.id}/analysis")
    assert page.status_code == 200 and "No AI analysis yet" in page.get_data(as_text=True)
    before = _balance(org)
    analysed = client.post(f"/o/{org.slug}/ai/projects/{project.id}/analysis")
    assert analysed.status_code == 303
    report = db.session.scalar(select(AiReport).where(AiReport.kind == "project", AiReport.subject_id == project.id))
    figures = report.figures
    assert (figures["total"], figures["open"], figures["done"]) == (4, 3, 1)
    assert [t["title"] for t in figures["overdue"]] == ["Print the flyers", "Book the venue"]
    assert sorted(t["title"] for t in figures["blocked"]) == ["Book the venue", "Edit the teaser"]
    assert figures["load"][0] == {"member": "Mpho Member", "open": 2, "overdue": 1}
    # the narrative came from the sandbox, which restates the figures it was given
    assert "Overdue: 2" in report.narrative and "Blocked: 2" in report.narrative
    [log] = _usage(org, "PROJECT_ANALYSIS")
    assert log.success and report.credits_used == log.credits_used and _balance(org) == before - log.credits_used
    shown = client.get(f"/o/{org.slug}/ai/projects/{project.id}/analysis").get_data(as_text=True)
    assert "Written by AI" in shown and "computed by Tessera" in shown and "Print the flyers" in shown

    # a member reads it (analysis is readable by members)
    member_client.login(member.email)
    assert member_client.get(f"/o/{org.slug}/ai/projects/{project.id}/analysis").status_code == 200

    # a failing provider: nothing charged, a clear message, the earlier analysis still shown
    project_row = db.session.get(Project, project.id)
    project_row.name = "Spring launch [sandbox:fail]"
    db.session.commit()
    before = _balance(org)
    failed = client.post(f"/o/{org.slug}/ai/projects/{project.id}/analysis", follow_redirects=True)
    assert "The AI service failed" in failed.get_data(as_text=True)
    assert _balance(org) == before
    assert db.session.scalar(select(func.count(AiReport.id)).where(AiReport.kind == "project")) == 1


def test_a_provider_timeout_charges_nothing(client, ctx):
    from flask import g

    from webapp.settings.services import update_setting

    _owner, _member, org, project = _setup(client)
    update_setting("ai.request_timeout_seconds", "1", None)
    db.session.commit()
    g.pop("tessera_settings", None)
    before = _balance(org)
    answer = client.post(f"/o/{org.slug}/ai/projects/{project.id}/tasks", {"goal": "Plan the party [sandbox:hang]"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "timed out" in text and "were refunded" in text
    assert _balance(org) == before
    [log] = _usage(org, "TASK_GENERATION")
    assert not log.success and log.credits_used == 0 and "timed out" in log.error_message
    assert db.session.scalar(select(func.count(AiTaskProposal.id))) == 0
