"""Approvals: with the organization's "posts by members need approval" on, a MEMBER's scheduled post
waits in *Needs approval* (its targets stay DRAFT, never claimable) until an owner or admin approves
it (→ scheduled at its time, or a new one when that has passed) or rejects it with a comment (→ back
to draft, the comment shown to the author). The publish claim checks ``Post.approval`` as well, so
nothing unapproved is published even if a target were queued by mistake."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from webapp.audit import record
from webapp.core.access import role_allows, roles_with
from webapp.core.errors import Conflict, DomainError
from webapp.core.models import utcnow
from webapp.core.terms import N_
from webapp.extensions import db
from webapp.notifications.services import BOTH, IN_APP, notify, register_type
from webapp.orgs.models import Membership
from webapp.studio.models import Post, PublishJob, StudioSettings

COMMENT_MAX = 2000

register_type("post.approval_requested", N_("A team member's post needs approval"), IN_APP)
register_type("post.approved", N_("Your post was approved"), IN_APP)
register_type("post.rejected", N_("Your post was sent back with a comment"), BOTH)


def settings_for(org) -> StudioSettings:
    """The organization's Studio settings; an unsaved default row when it never changed them."""
    row = db.session.scalar(select(StudioSettings).where(StudioSettings.organization_id == org.id))
    return row or StudioSettings(organization_id=org.id, approval_required=False, queue_paused=False)


def settings_row(org) -> StudioSettings:
    """The organization's settings row, locked for a change (made on the first one)."""
    row = db.session.scalar(select(StudioSettings).where(StudioSettings.organization_id == org.id).with_for_update())
    if row is None:
        row = StudioSettings(organization_id=org.id, approval_required=False, queue_paused=False)
        db.session.add(row)
        db.session.flush()
    return row


def set_approval_required(org, user, required: bool) -> StudioSettings:
    row = settings_row(org)
    before = bool(row.approval_required)
    row.approval_required = bool(required)
    db.session.flush()
    if before != row.approval_required:
        record(user, "studio.approval_setting_changed", org, {"approval_required": row.approval_required}, org=org)
    return row


def _role(org, user) -> str | None:
    return db.session.scalar(
        select(Membership.role).where(Membership.organization_id == org.id, Membership.user_id == user.id)
    )


def required_for(org, user) -> bool:
    """Does what this person schedules wait for approval? Members' posts, when the setting is on."""
    if user is None or not settings_for(org).approval_required:
        return False
    return not role_allows(_role(org, user) or "", "studio_approve")


def _require_approver(org, user) -> None:
    if user is None or not role_allows(_role(org, user) or "", "studio_approve"):
        raise Conflict("Only owners and admins approve posts.", code="not_an_approver")


def submit(post: Post, user, when: datetime | None) -> None:
    """Hold the post for approval: targets DRAFT (not claimable), ``approval`` PENDING. ``when`` None
    means "as soon as it is approved" (the member pressed Post now)."""
    post.approval = Post.APPROVAL_PENDING
    post.approval_comment = None
    post.approval_by_id = None
    post.approval_at = None
    post.submitted_by_id = getattr(user, "id", None)
    post.scheduled_at = when
    for job in post.targets:
        if job.status in (PublishJob.PENDING, PublishJob.DELAYED, PublishJob.DRAFT):
            job.status = PublishJob.DRAFT
            job.scheduled_for = job.due_at = when
    db.session.flush()
    from webapp.studio.services.posts import rollup

    rollup(post)
    record(user, "post.approval_requested", post, {"at": when.isoformat() if when else None})
    approvers = db.session.scalars(
        select(Membership.user_id).where(
            Membership.organization_id == post.organization_id,
            Membership.role.in_(roles_with("studio_approve")),
        )
    ).all()
    if approvers:
        from webapp.auth.models import User

        users = db.session.scalars(select(User).where(User.id.in_(approvers))).all()
        notify(
            users,
            "post.approval_requested",
            f"Needs approval: {_name(post)}",
            "A team member scheduled this post; approve or reject it.",
            _link(post),
            org=post.organization_id,
        )


def approve(org, post: Post, user, when: datetime | None = None) -> Post:
    """Approve: the post is scheduled at ``when`` or its own time; a time that has passed is refused
    with a request for a new one. No time at all (Post now) publishes now."""
    _require_approver(org, user)
    if post.approval != Post.APPROVAL_PENDING or post.status != Post.NEEDS_APPROVAL:
        raise Conflict("This post is not waiting for approval.", code="not_awaiting_approval")
    now = utcnow()
    at = when or post.scheduled_at or now
    if at < now - timedelta(minutes=1):
        raise DomainError(
            "Its time has passed. Pick a new date and time, then approve.",
            field="schedule_date",
            code="approval_time_passed",
        )
    post.approval = Post.APPROVAL_APPROVED
    post.approval_by_id = getattr(user, "id", None)
    post.approval_at = now
    post.approval_comment = None
    post.scheduled_at = at
    for job in post.targets:
        if job.status == PublishJob.DRAFT:
            job.status = PublishJob.PENDING
            job.scheduled_for = job.due_at = at
    db.session.flush()
    from webapp.studio.services.posts import _enqueue_targets, rollup

    rollup(post)
    record(user, "post.approved", post, {"at": at.isoformat()})
    _tell_author(post, "post.approved", f"Approved: {_name(post)}", "It will be published at its time.")
    _enqueue_targets(post)
    return post


def reject(org, post: Post, user, comment: str) -> Post:
    _require_approver(org, user)
    comment = (comment or "").strip()
    if not comment:
        raise DomainError("Say what should change, so the author knows.", field="comment")
    if len(comment) > COMMENT_MAX:
        raise DomainError(f"Keep the comment under {COMMENT_MAX} characters.", field="comment")
    if post.approval != Post.APPROVAL_PENDING or post.status != Post.NEEDS_APPROVAL:
        raise Conflict("This post is not waiting for approval.", code="not_awaiting_approval")
    post.approval = Post.APPROVAL_REJECTED
    post.approval_by_id = getattr(user, "id", None)
    post.approval_at = utcnow()
    post.approval_comment = comment
    db.session.flush()
    from webapp.studio.services.posts import rollup

    rollup(post)
    record(user, "post.rejected", post, {"comment": comment})
    _tell_author(post, "post.rejected", f"Sent back: {_name(post)}", comment[:500])
    return post


def _name(post: Post) -> str:
    return ((post.caption or "").strip().splitlines() or ["Your post"])[0][:80] or "Your post"


def _link(post: Post) -> str | None:
    from webapp.notifications.subscribers import org_link

    return org_link(post.organization_id, "studio.post", post_id=post.id)


def _tell_author(post: Post, type_: str, title: str, body: str) -> None:
    from webapp.auth.models import User

    author_id = post.submitted_by_id or post.created_by_id
    author = db.session.get(User, author_id) if author_id else None
    if author is not None:
        notify(author, type_, title, body, _link(post), org=post.organization_id)
