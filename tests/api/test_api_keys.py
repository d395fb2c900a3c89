import re

import time_machine
from sqlalchemy import select

from tests.api.helpers import bearer, org_with_key
from tests.factories import add_member, make_org, make_user
from webapp.api.models import ApiKey
from webapp.api.services import hash_key
from webapp.core.models import utcnow
from webapp.extensions import db


def _owner_org(client):
    owner = make_user()
    org = make_org(owner)
    client.login(owner.email)
    return owner, org


def test_key_is_shown_once_and_stored_as_hash_and_prefix(client, ctx):
    owner, org = _owner_org(client)
    response = client.post(
        f"/o/{org.slug}/api-keys",
        {"name": "POS sync", "scopes": ["usage:write", "usage:read"], "rate_limit": "500", "expires_in_days": "30"},
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/o/{org.slug}/api-keys"
    assert "tsk_" not in response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    plain = re.search(r'id="new-key-value">(tsk_[A-Za-z0-9_\-]+)<', page).group(1)
    key = db.session.scalar(select(ApiKey).where(ApiKey.organization_id == org.id))
    assert key.key_hash == hash_key(plain) and plain not in (key.key_hash, key.key_prefix)
    assert plain.startswith("tsk_" + key.key_prefix) and len(key.key_prefix) == 8
    assert key.scopes == ["usage:write", "usage:read"] and key.rate_limit == 500 and key.expires_at is not None
    listing = client.get(f"/o/{org.slug}/api-keys").get_data(as_text=True)
    assert plain not in listing and f"tsk_{key.key_prefix}…" in listing and "never" in listing
    assert owner.display_name in listing  # created by


def test_reloading_after_creating_a_key_makes_no_second_key_and_shows_none(client, ctx):
    _, org = _owner_org(client)
    form = {"name": "Till", "scopes": ["usage:write"], "rate_limit": "100", "expires_in_days": ""}
    created = client.post(f"/o/{org.slug}/api-keys", form)
    assert created.status_code == 303
    shown = client.get(created.headers["Location"]).get_data(as_text=True)
    plain = re.search(r'id="new-key-value">(tsk_[A-Za-z0-9_\-]+)<', shown).group(1)
    reloaded = client.get(created.headers["Location"]).get_data(as_text=True)  # what a reload sends after a 303
    assert plain not in reloaded and 'id="new-key-value"' not in reloaded
    assert len(list(db.session.scalars(select(ApiKey).where(ApiKey.organization_id == org.id)))) == 1
    # a second browser of the same owner, or another org's page, never sees a stash meant for this one
    client.post(f"/o/{org.slug}/api-keys", {**form, "name": "Till 2"})
    other = make_org(make_user())
    assert client.get(f"/o/{other.slug}/api-keys").status_code in (403, 404)
    assert 'id="new-key-value"' in client.get(f"/o/{org.slug}/api-keys").get_data(as_text=True)
    assert len(list(db.session.scalars(select(ApiKey).where(ApiKey.organization_id == org.id)))) == 2


def test_a_stashed_key_expires_unseen(client, ctx):
    _, org = _owner_org(client)
    created = client.post(f"/o/{org.slug}/api-keys", {"name": "Late", "scopes": ["usage:read"], "rate_limit": "5"})
    assert created.status_code == 303
    with time_machine.travel(utcnow().timestamp() + 301, tick=False):
        late = client.get(created.headers["Location"]).get_data(as_text=True)
    assert 'id="new-key-value"' not in late and "Late" in late


def test_create_refuses_bad_input_with_messages(client, ctx):
    _, org = _owner_org(client)
    response = client.post(f"/o/{org.slug}/api-keys", {"name": "", "rate_limit": "0"})
    assert response.status_code == 422
    assert db.session.scalar(select(ApiKey)) is None
    response = client.post(f"/o/{org.slug}/api-keys", {"name": "x", "rate_limit": "10"})
    assert response.status_code == 422 and "Choose at least one scope" in response.get_data(as_text=True)


def test_members_without_api_permission_are_refused(client, ctx):
    owner = make_user()
    org = make_org(owner)
    member = make_user()
    add_member(org, member, "MEMBER")
    client.login(member.email)
    assert client.get(f"/o/{org.slug}/api-keys").status_code == 403
    assert client.get(f"/o/{org.slug}/usage").status_code == 403


def test_missing_csrf_is_refused(client, ctx):
    _, org = _owner_org(client)
    response = client.post(
        f"/o/{org.slug}/api-keys", {"name": "x", "scopes": ["usage:read"], "rate_limit": "1"}, csrf=False
    )
    assert response.status_code == 400
    assert db.session.scalar(select(ApiKey)) is None


def test_revoked_key_answers_401_and_other_org_key_is_404(client, ctx):
    owner, org, key, plain = org_with_key(email="own@example.com")
    assert client.client.get("/api/v1/usage", headers=bearer(plain)).status_code == 200
    client.login(owner.email)
    other_owner = make_user()
    other = make_org(other_owner)
    assert client.post(f"/o/{other.slug}/api-keys/{key.id}/revoke").status_code == 404
    assert client.post(f"/o/{org.slug}/api-keys/{key.id}/revoke").status_code == 303
    response = client.client.get("/api/v1/usage", headers=bearer(plain))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_api_key"


def test_auth_errors_have_stable_codes(client, ctx):
    _, _, _, plain = org_with_key(scopes=("usage:read",))
    r = client.client.get("/api/v1/usage")
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthenticated" and "WWW-Authenticate" in r.headers
    r = client.client.get("/api/v1/usage", headers=bearer("tsk_nottherightkey"))
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_api_key"
    r = client.client.post("/api/v1/usage-events", json={}, headers=bearer(plain))
    assert r.status_code == 403 and r.json["error"]["code"] == "insufficient_scope"
    assert r.json["error"]["details"]["required_scope"] == "usage:write"
    r = client.client.get("/api/v1/nothing-here", headers=bearer(plain))
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_expired_key_is_refused(client, ctx):
    from datetime import timedelta

    _, _, _key, plain = org_with_key(expires_at=utcnow() + timedelta(days=1))
    assert client.client.get("/api/v1/usage", headers=bearer(plain)).status_code == 200
    with time_machine.travel(utcnow() + timedelta(days=2)):
        r = client.client.get("/api/v1/usage", headers=bearer(plain))
    assert r.status_code == 401 and r.json["error"]["code"] == "api_key_expired"


def test_hourly_rate_limit_with_headers(client, ctx):
    _, _, _, plain = org_with_key(rate_limit=3)
    seen = []
    for _ in range(3):
        r = client.client.get("/api/v1/usage", headers=bearer(plain))
        assert r.status_code == 200
        seen.append(int(r.headers["RateLimit-Remaining"]))
        assert r.headers["RateLimit-Limit"] == "3" and 0 < int(r.headers["RateLimit-Reset"]) <= 3600
    assert seen == [2, 1, 0]
    r = client.client.get("/api/v1/usage", headers=bearer(plain))
    assert r.status_code == 429 and r.json["error"]["code"] == "rate_limited"
    assert 0 < int(r.headers["Retry-After"]) <= 3600 and r.headers["RateLimit-Remaining"] == "0"


def test_plan_api_call_allowance_answers_429_plan_limit_exceeded(client, ctx):
    from webapp.subscriptions.catalog import plan_by_code

    _, org, _, plain = org_with_key()
    plan_by_code("FREE").max_api_calls = 2
    db.session.commit()
    from webapp.api.services import forget_cached

    forget_cached()
    assert client.client.get("/api/v1/usage", headers=bearer(plain)).status_code == 200
    assert client.client.get("/api/v1/usage", headers=bearer(plain)).status_code == 200
    r = client.client.get("/api/v1/usage", headers=bearer(plain))
    assert r.status_code == 429
    error = r.json["error"]
    assert error["code"] == "plan_limit_exceeded" and error["details"]["limit"] == "api_calls"
    assert f"/o/{org.slug}/subscription" in error["message"] and int(r.headers["Retry-After"]) > 0


def test_last_used_is_recorded_without_a_write_per_request(client, ctx, app, run_jobs):
    _, _org, key, plain = org_with_key()
    assert key.last_used_at is None
    for _ in range(3):
        client.client.get("/api/v1/usage", headers=bearer(plain))
    owner_page = None
    db.session.expire_all()
    if app.extensions["tessera.jobs_backend"] == "rq":
        # Redis holds the time until the periodic job copies it into the row.
        assert db.session.get(ApiKey, key.id).last_used_at is None
        from webapp.api.jobs import flush_api_key_last_used

        flush_api_key_last_used()
        db.session.expire_all()
    assert db.session.get(ApiKey, key.id).last_used_at is not None
    assert owner_page is None
