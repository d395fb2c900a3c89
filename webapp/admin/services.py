"""What the console needs from accounts and organizations: searches, details, suspending a user.

Reads are one query per list (member counts joined in), so a page costs the same with ten
organizations or ten thousand.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import contains_eager

from webapp.audit import record
from webapp.auth.models import User, UserSession
from webapp.core.errors import Conflict, NotFound
from webapp.core.models import rowcount, utcnow
from webapp.core.pagination import Page, paginate
from webapp.extensions import db
from webapp.orgs.models import Membership, Organization


def _like(text: str) -> str:
    return "%" + text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_organizations(query: str = "", page: int = 1, per_page: int = 25, include_deleted: bool = True) -> Page:
    """Organizations by name, slug or contact e-mail, newest first, each with its member count."""
    members = (
        select(Membership.organization_id, func.count().label("n")).group_by(Membership.organization_id).subquery()
    )
    stmt = (
        select(Organization, func.coalesce(members.c.n, 0))
        .outerjoin(members, members.c.organization_id == Organization.id)
        .order_by(Organization.id.desc())
    )
    if query.strip():
        pattern = _like(query)
        stmt = stmt.where(
            or_(
                func.lower(Organization.name).like(pattern, escape="\\"),
                func.lower(Organization.slug).like(pattern, escape="\\"),
                func.lower(Organization.email).like(pattern, escape="\\"),
            )
        )
    if not include_deleted:
        stmt = stmt.where(Organization.deleted_at.is_(None))
    return paginate(stmt, page, per_page, rows=True)


def search_users(query: str = "", page: int = 1, per_page: int = 25, status: str = "") -> Page:
    """Users by e-mail or name, newest first; ``status`` narrows to staff, suspended or unverified."""
    orgs = select(Membership.user_id, func.count().label("n")).group_by(Membership.user_id).subquery()
    stmt = select(User, func.coalesce(orgs.c.n, 0)).outerjoin(orgs, orgs.c.user_id == User.id).order_by(User.id.desc())
    if query.strip():
        pattern = _like(query)
        stmt = stmt.where(
            or_(func.lower(User.email).like(pattern, escape="\\"), func.lower(User.name).like(pattern, escape="\\"))
        )
    if status == "staff":
        stmt = stmt.where(User.is_staff.is_(True))
    elif status == "suspended":
        stmt = stmt.where(User.suspended_at.is_not(None))
    elif status == "unverified":
        stmt = stmt.where(User.email_verified_at.is_(None))
    return paginate(stmt, page, per_page, rows=True)


def get_organization(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound("There is no such organization.")
    return org


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no such user.")
    return user


def organization_members(org: Organization) -> list[Membership]:
    stmt = (
        select(Membership)
        .where(Membership.organization_id == org.id)
        .join(User, User.id == Membership.user_id)
        .options(contains_eager(Membership.user))
        .order_by(Membership.role, User.email)
    )
    return list(db.session.scalars(stmt))


def user_memberships(user: User) -> list[Membership]:
    stmt = select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
    return list(db.session.scalars(stmt))


def user_sessions(user: User, limit: int = 20) -> list[UserSession]:
    """Recent sessions, active or not, newest first."""
    stmt = select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def suspend_user(user: User, actor, reason: str = "") -> int:
    """Suspend the account and revoke every session it has; returns how many sessions were revoked.

    The session loader refuses suspended users as well, so a browser signed in elsewhere is logged
    out on its next request even before the revocation is read.
    """
    if user.id == getattr(actor, "id", None):
        raise Conflict("You cannot suspend your own account.", code="cannot_suspend_self")
    if user.is_suspended:
        raise Conflict("This account is already suspended.", code="already_suspended")
    now = utcnow()
    user.suspended_at = now
    revoked = rowcount(
        db.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    record(actor, "user.suspended", user, {"reason": reason.strip()[:500], "sessions_revoked": revoked})
    return revoked


def unsuspend_user(user: User, actor) -> None:
    if not user.is_suspended:
        raise Conflict("This account is not suspended.", code="not_suspended")
    user.suspended_at = None
    record(actor, "user.unsuspended", user)
