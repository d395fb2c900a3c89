"""Objects of the orgs domain for the tenancy sweep: each creates one in ``org`` and returns its id."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from tests.factories import add_member, make_user
from webapp.extensions import db
from webapp.orgs import services as orgs
from webapp.orgs.models import Membership

_seq = itertools.count(1)


def _membership(org, user) -> int:
    return add_member(org, make_user(f"sweep-member-{next(_seq)}@example.com"), "MEMBER").id


def _invitation(org, user) -> int:
    actor = db.session.scalar(
        select(Membership).where(Membership.organization_id == org.id, Membership.user_id == user.id)
    )
    invitation, _ = orgs.invite_member(org, actor, f"sweep-invitee-{next(_seq)}@example.com", "MEMBER")
    db.session.commit()
    return invitation.id


SAMPLES = {"membership_id": _membership, "invitation_id": _invitation}
