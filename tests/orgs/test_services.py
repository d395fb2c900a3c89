"""The membership rules as plain functions: stable error codes, nothing written on refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.factories import add_member, make_org, make_user
from webapp.core.errors import DomainError, Forbidden
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.orgs import services as orgs
from webapp.orgs.models import Membership


@pytest.fixture
def team(ctx):
    owner_user = make_user("svc-owner@example.com")
    org = make_org(owner_user, "Service Co", "service-co")
    owner = db.session.scalar(select(Membership).where(Membership.user_id == owner_user.id))
    admin = add_member(org, make_user("svc-admin@example.com"), "ADMIN")
    member = add_member(org, make_user("svc-member@example.com"), "MEMBER")
    return org, owner, admin, member


def test_last_owner_rules_have_a_stable_code(team):
    org, owner, _, _ = team
    for attempt in (
        lambda: orgs.change_role(org, owner, owner, "ADMIN"),
        lambda: orgs.remove_member(org, owner, owner),
        lambda: orgs.leave_organization(org, owner),
    ):
        with pytest.raises(DomainError) as refused:
            attempt()
        assert refused.value.code == "last_owner"
    db.session.rollback()
    assert orgs.owner_count(org) == 1


def test_admin_guard(team):
    org, owner, admin, member = team
    with pytest.raises(Forbidden):
        orgs.change_role(org, admin, owner, "MEMBER")
    with pytest.raises(Forbidden):
        orgs.change_role(org, admin, member, "OWNER")
    with pytest.raises(Forbidden):
        orgs.remove_member(org, admin, owner)
    with pytest.raises(Forbidden):
        orgs.invite_member(org, admin, "crown@example.com", "OWNER")
    with pytest.raises(Forbidden):
        orgs.transfer_ownership(org, admin, member)
    orgs.change_role(org, admin, member, "BILLING")
    assert member.role == "BILLING"


def test_invalid_role_and_self_transfer(team):
    org, owner, _, member = team
    with pytest.raises(DomainError) as bad_role:
        orgs.change_role(org, owner, member, "KING")
    assert bad_role.value.field == "role"
    with pytest.raises(DomainError) as self_transfer:
        orgs.transfer_ownership(org, owner, owner)
    assert self_transfer.value.field == "member_id"


def test_accept_invitation_codes(team):
    org, owner, _, _ = team
    stranger = make_user("svc-stranger@example.com")
    invited = make_user("svc-invited@example.com")
    _, token = orgs.invite_member(org, owner, invited.email, "MEMBER")
    db.session.commit()
    with pytest.raises(DomainError) as mismatch:
        orgs.accept_invitation(token, stranger)
    assert mismatch.value.code == "invitation_other_user"
    with time_machine.travel(utcnow() + timedelta(days=8), tick=False), pytest.raises(DomainError) as expired:
        orgs.accept_invitation(token, invited)
    assert expired.value.code == "invitation_expired"
    membership = orgs.accept_invitation(token, invited)
    assert membership.role == "MEMBER"
    db.session.commit()
    with pytest.raises(DomainError) as used:
        orgs.accept_invitation(token, invited)
    assert used.value.code == "invitation_invalid"
    with pytest.raises(DomainError):
        orgs.accept_invitation("not-a-token", invited)


def test_slug_rules(ctx):
    owner = make_user("svc-slugs@example.com")
    make_org(owner, slug="first-one")
    for slug in ("first-one", "FIRST-ONE", "admin", "a", "-x-", "with space", "x" * 64):
        with pytest.raises(DomainError) as refused:
            orgs.validate_slug(slug)
        assert refused.value.field == "slug"
    assert orgs.validate_slug("  Second-One ") == "second-one"


def test_personal_org_slug_is_unique(ctx):
    first = make_user("same@one.example")
    second = make_user("same@two.example")
    slugs = {m.organization.slug for m in orgs.memberships_of(first.id) + orgs.memberships_of(second.id)}
    assert len(slugs) == 2 and all(s.startswith("same") for s in slugs)
