"""One mechanism for who may see what: ``org_view`` on every ``/o/<slug>/…`` route.

Non-members get 404 (the organization's existence is not revealed); members whose role lacks
the permission get 403. Objects are loaded through ``org_object_or_404`` so another
organization's id is a 404 as well.
"""

from __future__ import annotations

import functools

from flask import abort, g
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.extensions import db

OWNER, ADMIN, MEMBER, BILLING = "OWNER", "ADMIN", "MEMBER", "BILLING"
ROLES = (OWNER, ADMIN, MEMBER, BILLING)

# What each role may do (DESIGN §1). One table: routes name a permission, never a role.
PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "members": frozenset({OWNER, ADMIN}),
    "owner": frozenset({OWNER}),
    # The address and phone printed on invoices.
    "org_address": frozenset({OWNER, ADMIN}),
    "billing": frozenset({OWNER, ADMIN, BILLING}),
    # Saved cards: the issue gives them to owners and the billing role (admins see billing, not cards).
    "payment_methods": frozenset({OWNER, BILLING}),
    "services": frozenset({OWNER, ADMIN, MEMBER}),
    "api": frozenset({OWNER, ADMIN}),
    "integrations": frozenset({OWNER, ADMIN}),
    "workflows": frozenset({OWNER, ADMIN}),
    "studio": frozenset({OWNER, ADMIN, MEMBER}),
    # Approving members' posts and the organization's Studio settings.
    "studio_approve": frozenset({OWNER, ADMIN}),
    "support": frozenset({OWNER, ADMIN, MEMBER}),
    "files": frozenset({OWNER, ADMIN, MEMBER}),
    # The organization's logo (on its invoices and in the switcher).
    "branding": frozenset({OWNER, ADMIN}),
    "projects": frozenset({OWNER, ADMIN, MEMBER}),
    "ai": frozenset({OWNER, ADMIN, MEMBER}),
    "referrals": frozenset({OWNER, ADMIN, MEMBER}),
}


def role_allows(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def roles_with(permission: str) -> tuple[str, ...]:
    """The roles holding ``permission``, in ``ROLES`` order: who a notice or a choice is for, read off
    the same table as the routes (never a role list typed again)."""
    return tuple(role for role in ROLES if role in PERMISSIONS[permission])


def load_membership(slug: str, user_id: int):
    from webapp.orgs.models import Membership, Organization

    stmt = (
        select(Membership)
        .join(Organization, Membership.organization_id == Organization.id)
        .where(Organization.slug == slug, Membership.user_id == user_id, Organization.deleted_at.is_(None))
    )
    return db.session.scalar(stmt)


def org_view(permission: str):
    """Load the organization from ``<slug>``, check membership and role, pass ``org`` to the view.

    The permission is always named (``"view"`` for every member), so a route's rule is read off the
    route itself; the role sweep (tests/test_role_sweep.py) checks it against ``PERMISSIONS``."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapped(slug: str, **kwargs):
            membership = load_membership(slug, current_user.id)
            if membership is None:
                abort(404)
            if membership.organization.suspended_at is not None:
                return suspended_page(membership.organization)
            if not role_allows(membership.role, permission):
                # The 403 page keeps the organization's layout and says who can grant access.
                g.org, g.membership, g.denied_permission = membership.organization, membership, permission
                abort(403)
            g.org = membership.organization
            g.membership = membership
            return view(org=membership.organization, **kwargs)

        wrapped.__dict__["org_permission"] = permission  # a function attribute the role sweep reads
        return wrapped

    return decorator


def suspended_page(org):
    """What a member of a suspended organization sees on every one of its pages (staff use the console)."""
    from flask import current_app

    from webapp.core.htmx import render

    return render(
        "orgs/suspended.html",
        suspended_org=org,
        support_email=current_app.config.get("MAIL_DEFAULT_SENDER", ""),
        status=403,
    )


def org_object_or_404(model, org, object_id: int, *options):
    """The object with that id in this organization, or 404 — never another organization's."""
    stmt = select(model).where(model.id == object_id, model.organization_id == org.id)
    if options:
        stmt = stmt.options(*options)
    obj = db.session.scalar(stmt)
    if obj is None:
        abort(404)
    return obj


def can(permission: str) -> bool:
    """For templates: may the current member do this here?"""
    membership = g.get("membership")
    return membership is not None and role_allows(membership.role, permission)


def roles_allowed(permission: str) -> list[str]:
    """The roles that hold ``permission``, in the table's order (for people: "Owner, Admin")."""
    return [role for role in ROLES if role in PERMISSIONS[permission]]


def who_can_grant(org) -> list:
    """The members who can change a role here (those holding "members"), owners first."""
    from webapp.orgs.models import Membership

    granting = roles_allowed("members")
    rows = db.session.scalars(
        select(Membership).where(Membership.organization_id == org.id, Membership.role.in_(granting))
    ).all()
    return sorted(rows, key=lambda m: (granting.index(m.role), m.user.display_name.lower()))
