"""Factories: rows made through the same services the app uses, committed."""

from __future__ import annotations

import itertools

from webapp.auth import services as accounts
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.orgs import services as orgs
from webapp.orgs.models import Membership

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def make_user(
    email: str | None = None,
    *,
    name: str = "",
    staff: bool = False,
    verified: bool = True,
    password: str = PASSWORD,
):
    email = email or f"user{next(_seq)}@example.com"
    user = accounts.sign_up(email, password, name or email.split("@")[0].title())
    user.is_staff = staff
    if verified:
        user.email_verified_at = utcnow()
    db.session.commit()
    return user


def make_org(owner, name: str | None = None, slug: str | None = None):
    n = next(_seq)
    org = orgs.create_organization(owner, name or f"Org {n}", slug or f"org-{n}", owner.email, "ZW", "Africa/Harare")
    db.session.commit()
    return org


def add_member(org, user, role: str = "MEMBER") -> Membership:
    membership = Membership(organization_id=org.id, user_id=user.id, role=role)
    db.session.add(membership)
    db.session.commit()
    return membership
