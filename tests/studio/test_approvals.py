"""Approvals through the routes: with "posts by members need approval" on, a MEMBER's post waits in
Needs approval, never reaches a platform until an OWNER/ADMIN approves it, and goes back to approval
when the member edits it; rejection returns it to draft with the comment for the author."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.factories import add_member, make_org, make_user
from tests.studio.conftest import post_form, published_count
from webapp.audit.models import AuditEntry
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.notifications.models import Notification
from webapp.studio.models import Post, PublishJob

PLATFORMS = ("tiktok", "instagram", "youtube")


@pytest.fixture
def team(creator, make_client):
    """The creator (OWNER) turns approvals on; a MEMBER and an ADMIN join and log in."""
    member, admin = make_user("member@example.com"), make_user("admin@example.com")
    add_member(creator.org, member, "MEMBER")
    add_member(creator.org, admin, "ADMIN")
    on = creator.client.post(f"/o/{creator.slug}/studio/settings", {"approval_required": "y"})
    assert on.status_code == 303
    creator.member, creator.admin = member, admin
    creator.member_client, creator.admin_client = make_client(), make_client()
    creator.member_client.login(member.email)
    creator.admin_client.login(admin.email)
    return creator


def _latest(org):
    post = db.session.scalar(select(Post).where(Post.organization_id == org.id).order_by(Post.id.desc()))
    db.session.refresh(post)
    for target in post.targets:
        db.session.refresh(target)
    return post


def _counts(client):
    return {p: published_count(client, p) for p in PLATFORMS}


def _audit(post, action):
    return db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == action, AuditEntry.entity_type == "Post", AuditEntry.entity_id == post.id
        )
    ).all()


def _future(days=3):
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


def _member_schedules(team, **extra):
    data = post_form(team, action="schedule", schedule_date=_future(), schedule_time="10:30", **extra)
    response = team.member_client.post(f"/o/{team.slug}/studio/posts/new", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return _latest(team.org)


def test_only_owners_and_admins_change_the_setting(team):
    assert team.member_client.get(f"/o/{team.slug}/studio/settings").status_code == 403
    off = team.member_client.post(f"/o/{team.slug}/studio/settings", {})
    assert off.status_code == 403
    page = team.admin_client.get(f"/o/{team.slug}/studio/settings").get_data(as_text=True)
    assert "Posts by members need approval" in page and "checked" in page
    changed = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "studio.approval_setting_changed", AuditEntry.organization_id == team.org.id
        )
    ).all()
    assert [e.details for e in changed] == [{"approval_required": True}]


def test_a_member_post_waits_and_nothing_unapproved_is_published(team, run_jobs):
    before = _counts(team.client)
    post = _member_schedules(team)
    assert post.status == Post.NEEDS_APPROVAL and post.approval == Post.APPROVAL_PENDING
    assert {t.status for t in post.targets} == {PublishJob.DRAFT}
    assert len(_audit(post, "post.approval_requested")) == 1
    asked = db.session.scalars(select(Notification).where(Notification.type == "post.approval_requested")).all()
    assert {n.user_id for n in asked} == {team.user.id, team.admin.id}  # owners and admins, not the member
    page = team.member_client.get(f"/o/{team.slug}/studio/posts/{post.id}").get_data(as_text=True)
    assert "Needs approval" in page and "Approve</button>" not in page

    # It becomes due while still waiting: the minute claim and the publish job find nothing to send.
    past = utcnow() - timedelta(minutes=5)
    db.session.execute(update(Post).where(Post.id == post.id).values(scheduled_at=past))
    db.session.execute(update(PublishJob).where(PublishJob.post_id == post.id).values(due_at=past, scheduled_for=past))
    db.session.commit()
    from webapp.studio.jobs import claim_due_targets, publish_target

    claim_due_targets.delay()
    for target in post.targets:
        publish_target.delay(target.id)
    run_jobs()
    # Even a target that somehow got queued (PENDING) is refused by the claim while its post waits.
    db.session.execute(update(PublishJob).where(PublishJob.post_id == post.id).values(status=PublishJob.PENDING))
    db.session.commit()
    claim_due_targets.delay()
    for target in post.targets:
        publish_target.delay(target.id)
    run_jobs()
    post = _latest(team.org)
    assert {t.status for t in post.targets} == {PublishJob.PENDING}
    assert all(t.attempt_number == 0 and not t.remote for t in post.targets)
    assert _counts(team.client) == before


def test_a_member_cannot_approve_and_another_organization_gets_404(team, make_client):
    post = _member_schedules(team)
    url = f"/o/{team.slug}/studio/posts/{post.id}"
    assert team.member_client.post(f"{url}/approve", {}).status_code == 403
    assert team.member_client.post(f"{url}/reject", {"comment": "no"}).status_code == 403
    stranger = make_user("stranger@example.com")
    other = make_org(stranger, "Other Co", "other-co")
    outsider = make_client()
    outsider.login(stranger.email)
    assert outsider.post(f"/o/{other.slug}/studio/posts/{post.id}/approve", {}).status_code == 404
    assert outsider.post(f"/o/{other.slug}/studio/posts/{post.id}/reject", {"comment": "x"}).status_code == 404
    assert outsider.post(f"{url}/approve", {}).status_code == 404  # not a member here
    assert _latest(team.org).status == Post.NEEDS_APPROVAL
    assert not _audit(post, "post.approved") and not _audit(post, "post.rejected")


def test_approve_schedules_it_and_a_passed_time_asks_for_a_new_one(team, run_jobs):
    post = _member_schedules(team)
    db.session.execute(update(Post).where(Post.id == post.id).values(scheduled_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    url = f"/o/{team.slug}/studio/posts/{post.id}"
    page = team.admin_client.get(url).get_data(as_text=True)
    assert "Its time has passed" in page
    refused = team.admin_client.post(f"{url}/approve", {})
    assert refused.status_code == 422
    assert "Pick a new date and time, then approve." in refused.get_data(as_text=True)
    assert _latest(team.org).status == Post.NEEDS_APPROVAL and not _audit(post, "post.approved")

    day = _future(5)
    ok = team.admin_client.post(f"{url}/approve", {"schedule_date": day, "schedule_time": "09:15"})
    assert ok.status_code == 303
    post = _latest(team.org)
    assert post.status == Post.SCHEDULED and post.approval == Post.APPROVAL_APPROVED
    assert post.approval_by_id == team.admin.id
    assert post.scheduled_at == datetime.fromisoformat(f"{day}T09:15").replace(tzinfo=UTC) - timedelta(hours=2)
    assert {t.status for t in post.targets} == {PublishJob.PENDING}
    assert {t.due_at for t in post.targets} == {post.scheduled_at}
    assert len(_audit(post, "post.approved")) == 1
    told = db.session.scalars(select(Notification).where(Notification.type == "post.approved")).all()
    assert [n.user_id for n in told] == [team.member.id] and f"/studio/posts/{post.id}" in told[0].link
    again = team.admin_client.post(f"{url}/approve", {})  # double submit / replay
    assert again.status_code == 303
    assert "This post is not waiting for approval." in team.admin_client.get(url).get_data(as_text=True)
    assert len(_audit(post, "post.approved")) == 1


def test_post_now_by_a_member_publishes_once_approved(team, run_jobs):
    before = _counts(team.client)
    response = team.member_client.post(f"/o/{team.slug}/studio/posts/new", post_form(team, action="now"))
    assert response.status_code == 303
    post = _latest(team.org)
    assert post.status == Post.NEEDS_APPROVAL and post.scheduled_at is None
    run_jobs()
    assert _counts(team.client) == before
    assert team.client.post(f"/o/{team.slug}/studio/posts/{post.id}/approve", {}).status_code == 303
    run_jobs()
    post = _latest(team.org)
    assert post.status == Post.PUBLISHED, [(t.platform, t.status, t.error_message) for t in post.targets]
    assert _counts(team.client) == {p: before[p] + 1 for p in PLATFORMS}


def test_reject_needs_a_comment_and_shows_it_to_the_author(team):
    post = _member_schedules(team)
    url = f"/o/{team.slug}/studio/posts/{post.id}"
    empty = team.admin_client.post(f"{url}/reject", {"comment": "   "})
    assert empty.status_code == 422 and "Say what should change" in empty.get_data(as_text=True)
    hostile = "<script>alert(1)</script> Please use the brand hashtag"
    ok = team.admin_client.post(f"{url}/reject", {"comment": hostile})
    assert ok.status_code == 303
    post = _latest(team.org)
    assert post.status == Post.DRAFT and post.approval == Post.APPROVAL_REJECTED
    assert {t.status for t in post.targets} == {PublishJob.DRAFT}
    entries = _audit(post, "post.rejected")
    assert len(entries) == 1 and entries[0].details["comment"] == hostile
    page = team.member_client.get(url).get_data(as_text=True)
    assert "Sent back" in page and "&lt;script&gt;alert(1)&lt;/script&gt; Please use the brand hashtag" in page
    assert "<script>alert(1)" not in page
    told = db.session.scalars(select(Notification).where(Notification.type == "post.rejected")).all()
    assert [n.user_id for n in told] == [team.member.id]
    assert team.admin_client.post(f"{url}/approve", {}).status_code == 303  # a rejected post is not approvable
    assert _latest(team.org).status == Post.DRAFT and not _audit(post, "post.approved")
    # The author fixes it and schedules again: back to approval, comment cleared.
    data = post_form(team, action="schedule", schedule_date=_future(), schedule_time="11:00", hashtags="brand")
    assert team.member_client.post(f"{url}/edit", data).status_code == 303
    post = _latest(team.org)
    assert post.status == Post.NEEDS_APPROVAL and post.approval_comment is None


def test_a_member_editing_an_approved_post_sends_it_back_to_approval(team):
    post = _member_schedules(team)
    url = f"/o/{team.slug}/studio/posts/{post.id}"
    assert team.client.post(f"{url}/approve", {}).status_code == 303
    assert _latest(team.org).status == Post.SCHEDULED
    data = post_form(team, action="schedule", schedule_date=_future(4), schedule_time="10:30", caption="Changed")
    assert team.member_client.post(f"{url}/edit", data).status_code == 303
    post = _latest(team.org)
    assert post.status == Post.NEEDS_APPROVAL and {t.status for t in post.targets} == {PublishJob.DRAFT}
    assert team.client.post(f"{url}/approve", {}).status_code == 303
    # Moving it on the calendar is an edit too.
    moved = team.member_client.post(f"{url}/move", {"day": _future(6)})
    assert moved.status_code in (200, 303)
    assert _latest(team.org).status == Post.NEEDS_APPROVAL
    # An admin's own edit needs no approval.
    assert team.client.post(f"{url}/approve", {}).status_code == 303
    data = post_form(team, action="schedule", schedule_date=_future(7), schedule_time="10:30")
    assert team.admin_client.post(f"{url}/edit", data).status_code == 303
    assert _latest(team.org).status == Post.SCHEDULED


def test_approve_and_reject_from_the_calendar_with_htmx(team):
    first = _member_schedules(team)
    second = _member_schedules(team, caption="Second one")
    month = f"/o/{team.slug}/studio/calendar?view=month&start={_future()[:8]}01"
    assert f'id="approve-{first.id}"' in team.admin_client.get(month).get_data(as_text=True)
    assert f'id="approve-{first.id}"' not in team.member_client.get(month).get_data(as_text=True)
    approved = team.admin_client.post(
        f"/o/{team.slug}/studio/posts/{first.id}/approve", {"from": "calendar"}, htmx=True
    )
    assert approved.status_code == 200 and 'id="calendar"' in approved.get_data(as_text=True)
    rejected = team.admin_client.post(
        f"/o/{team.slug}/studio/posts/{second.id}/reject", {"from": "calendar", "comment": "Too long"}, htmx=True
    )
    assert rejected.status_code == 200
    db.session.expire_all()
    assert db.session.get(Post, first.id).status == Post.SCHEDULED
    assert db.session.get(Post, second.id).status == Post.DRAFT
    assert db.session.get(Post, second.id).approval_comment == "Too long"


def test_with_the_setting_off_a_member_schedules_directly(team):
    assert team.client.post(f"/o/{team.slug}/studio/settings", {}).status_code == 303
    post = _member_schedules(team)
    assert post.status == Post.SCHEDULED and post.approval is None
    assert {t.status for t in post.targets} == {PublishJob.PENDING}
