"""Roles x routes: one mechanism answers 404 to non-members and 403 to members lacking the role."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import add_member, make_org, make_user
from webapp.audit.models import AuditEntry
from webapp.extensions import db
from webapp.orgs import services as orgs
from webapp.orgs.models import Membership

ALL = {"OWNER", "ADMIN", "MEMBER", "BILLING"}
MANAGERS = {"OWNER", "ADMIN"}
OWNER_ONLY = {"OWNER"}

# (method, path, form data, roles allowed) — DESIGN §1 and §4 say who may do what.
ROUTES = [
    ("GET", "/o/{slug}/", None, ALL),
    ("POST", "/o/{slug}/leave", {}, ALL),
    ("GET", "/o/{slug}/members", None, MANAGERS),
    ("POST", "/o/{slug}/members/invite", {"email": "new@example.com", "role": "MEMBER"}, MANAGERS),
    ("POST", "/o/{slug}/members/{membership_id}/role", {"role": "BILLING"}, MANAGERS),
    ("POST", "/o/{slug}/members/{membership_id}/remove", {}, MANAGERS),
    ("POST", "/o/{slug}/invitations/{invitation_id}/revoke", {}, MANAGERS),
    ("POST", "/o/{slug}/transfer", {"member_id": "{membership_id}"}, OWNER_ONLY),
    ("GET", "/o/{slug}/settings", None, OWNER_ONLY),
    (
        "POST",
        "/o/{slug}/settings",
        {"name": "Renamed", "email": "a@example.com", "country": "ZW", "timezone": "UTC"},
        OWNER_ONLY,
    ),
    ("POST", "/o/{slug}/delete", {"confirm_slug": "{slug}"}, OWNER_ONLY),
]


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.fixture
def setting(ctx):
    owner = make_user("founder@example.com")
    org = make_org(owner, "Roles Ltd", "roles-ltd")
    target = add_member(org, make_user("target@example.com"), "MEMBER")
    invitation, _ = orgs.invite_member(
        org, db.session.scalar(select(Membership).where(Membership.user_id == owner.id)), "inv@example.com", "MEMBER"
    )
    db.session.commit()
    return {"org": org, "slug": org.slug, "membership_id": target.id, "invitation_id": invitation.id}


@pytest.mark.parametrize("role", [*sorted(ALL), None], ids=lambda r: r or "non-member")
@pytest.mark.parametrize(("method", "path", "data", "allowed"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES])
def test_role_matrix(client, ctx, setting, role, method, path, data, allowed):
    actor = make_user("actor@example.com")
    if role is not None:
        add_member(setting["org"], actor, role)
    client.login("actor@example.com")
    url = path.format(**setting)
    before = audit_count()
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, {k: v.format(**setting) for k, v in data.items()})
    if role is None:
        assert response.status_code == 404
    elif role not in allowed:
        assert response.status_code == 403
        assert "does not allow" in response.get_data(as_text=True)
    else:
        assert response.status_code in (200, 303), response.get_data(as_text=True)[:500]
    if role is None or role not in allowed:
        db.session.expire_all()
        assert audit_count() == before, "a refused request changed something"


def test_anonymous_is_sent_to_login(client, ctx, setting):
    response = client.get(f"/o/{setting['slug']}/members")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_unknown_org_is_404_for_everyone(client, ctx):
    make_user("lost@example.com")
    client.login("lost@example.com")
    assert client.get("/o/no-such-org/").status_code == 404
    assert client.get("/o/no-such-org/members", headers={"Accept": "application/json"}).json["error"]["code"] == (
        "not_found"
    )
