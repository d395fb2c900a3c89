"""Accounts through the routes: throttling, `next`, sessions, tokens, reset, suspension, 2FA."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import select

from tests.factories import PASSWORD, make_user
from webapp.audit.models import AuditEntry
from webapp.auth.models import AuthToken, User, UserSession
from webapp.core.models import utcnow
from webapp.extensions import db

NEW_PASSWORD = "a brand new passphrase"


def actions(user_id: int) -> list[str]:
    db.session.expire_all()
    stmt = select(AuditEntry.action).where(AuditEntry.actor_id == user_id).order_by(AuditEntry.id)
    return list(db.session.scalars(stmt))


@contextmanager
def config(app, **values):
    """Change config for one test and put it back, whatever happens."""
    old = {key: app.config[key] for key in values}
    app.config.update(values)
    try:
        yield
    finally:
        app.config.update(old)


def logged_in(client) -> bool:
    return client.get("/account/").status_code == 200


# Throttling -----------------------------------------------------------------------------------


def test_login_throttled_per_account_counts_failures_only(app, client, make_client, ctx):
    make_user("target@example.com")
    make_user("bystander@example.com")
    with config(app, LOGIN_LIMIT_PER_ACCOUNT="3/minute"):
        client.login("target@example.com")  # a success does not count towards the account limit
        other = make_client()
        for _ in range(3):
            wrong = other.post("/auth/login", {"email": "Target@example.com", "password": "wrong password!"})
            assert wrong.status_code == 200 and "not right" in wrong.get_data(as_text=True)
        blocked = other.post("/auth/login", {"email": "target@example.com", "password": PASSWORD})
        assert blocked.status_code == 429
        assert "Too many attempts" in blocked.get_data(as_text=True)
        # another account from the same address is not locked
        assert (
            make_client().post("/auth/login", {"email": "bystander@example.com", "password": PASSWORD}).status_code
            == 303
        )
    assert "user.login_failed" in actions(db.session.scalar(select(User.id).where(User.email == "target@example.com")))


def test_login_throttled_per_ip(app, make_client, ctx):
    make_user("real@example.com")
    with config(app, LOGIN_LIMIT_PER_IP="4/minute"):
        c = make_client()
        for n in range(4):
            assert c.post("/auth/login", {"email": f"guess{n}@example.com", "password": "x" * 12}).status_code == 200
        assert c.post("/auth/login", {"email": "real@example.com", "password": PASSWORD}).status_code == 429
        # another address is a separate budget
        elsewhere = make_client()
        ok = elsewhere.post(
            "/auth/login", {"email": "real@example.com", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.8.7"}
        )
        assert ok.status_code == 303
    # limits are read per request: restored, the same address may try again
    assert make_client().post("/auth/login", {"email": "real@example.com", "password": PASSWORD}).status_code == 303


def test_password_reset_request_is_throttled_per_ip(app, client, ctx):
    with config(app, LOGIN_LIMIT_PER_IP="2/minute"):
        for _ in range(2):
            assert client.post("/auth/reset", {"email": "nobody@example.com"}).status_code == 303
        assert client.post("/auth/reset", {"email": "nobody@example.com"}).status_code == 429


# next -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/account/sessions", "/account/sessions"),
        ("/account/?tab=2", "/account/?tab=2"),
        ("https://evil.example/phish", "/o/"),
        ("//evil.example/phish", "/o/"),
        ("/\\evil.example", "/o/"),
        ("http://localhost/account/", "/o/"),
        ("javascript:alert(1)", "/o/"),
        ("account", "/o/"),
    ],
)
def test_next_only_redirects_within_the_site(client, ctx, target, expected):
    make_user("nx@example.com")
    response = client.post(
        "/auth/login", {"email": "nx@example.com", "password": PASSWORD}, query_string={"next": target}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_login_required_page_comes_back_after_login(client, ctx):
    make_user("back@example.com")
    first = client.get("/account/sessions")
    assert first.status_code == 302 and first.headers["Location"].startswith("/auth/login?next=")
    response = client.post(first.headers["Location"], {"email": "back@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/account/sessions"


def test_login_page_while_logged_in_goes_on(client, ctx):
    make_user("in@example.com")
    client.login("in@example.com")
    assert client.get("/auth/login?next=/account/").headers["Location"] == "/account/"
    assert client.get("/auth/login?next=https://evil.example/").headers["Location"] == "/o/"


# Sessions -------------------------------------------------------------------------------------


def test_sessions_are_listed_and_revoked_session_is_logged_out_next_request(client, make_client, ctx):
    user = make_user("multi@example.com")
    laptop = make_client()
    laptop.post(
        "/auth/login",
        {"email": "multi@example.com", "password": PASSWORD},
        headers={"User-Agent": "Laptop Firefox"},
        environ_base={"REMOTE_ADDR": "192.0.2.10"},
    )
    client.login("multi@example.com")
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "Laptop Firefox" in page and "192.0.2.10" in page and "This browser" in page

    laptop_session = db.session.scalar(select(UserSession).where(UserSession.ip_address == "192.0.2.10"))
    assert logged_in(laptop)
    revoked = client.post(f"/account/sessions/{laptop_session.id}/revoke")
    assert revoked.status_code == 303 and revoked.headers["Location"] == "/account/sessions"
    # the laptop is logged out on its very next request; this browser stays in
    assert laptop.get("/account/").status_code == 302
    assert logged_in(client)
    assert "Laptop Firefox" not in client.get("/account/sessions").get_data(as_text=True)
    assert "session.revoked" in actions(user.id)


def test_revoking_own_session_logs_out_and_other_users_sessions_are_not_found(client, make_client, ctx):
    make_user("mine@example.com")
    stranger = make_user("stranger@example.com")
    other = make_client()
    other.login("stranger@example.com")
    theirs = db.session.scalar(select(UserSession.id).where(UserSession.user_id == stranger.id))
    client.login("mine@example.com")
    assert client.post(f"/account/sessions/{theirs}/revoke").status_code == 404
    assert logged_in(other)
    mine = db.session.scalar(
        select(UserSession.id).where(UserSession.user_id != stranger.id, UserSession.revoked_at.is_(None))
    )
    response = client.post(f"/account/sessions/{mine}/revoke")
    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    assert not logged_in(client)


def test_logout_ends_the_server_side_session(client, ctx):
    user = make_user("bye@example.com")
    client.login("bye@example.com")
    client.post("/auth/logout")
    session = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert session.revoked_at is not None
    assert "user.logged_out" in actions(user.id)


def test_expired_session_is_no_session(client, ctx):
    make_user("old@example.com")
    client.login("old@example.com")
    with time_machine.travel(utcnow() + timedelta(days=15), tick=False):
        assert client.get("/account/").status_code == 302


# Tokens ---------------------------------------------------------------------------------------


def test_verification_link_expires(client, make_client, ctx, mailbox, run_jobs):
    client.post("/auth/signup", {"email": "late@example.com", "password": PASSWORD})
    client._token = None  # signing in starts a new session, with a new CSRF token
    run_jobs()
    link = mailbox.link("late@example.com")
    # another browser: a cookie signed in the future would not be accepted back in the present
    with time_machine.travel(utcnow() + timedelta(days=3), tick=False):
        response = make_client().get(link)
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.email == "late@example.com"))
    assert not user.is_verified
    # a new link works
    assert client.post("/auth/verify/resend").status_code == 303
    assert "user.verification_resent" in actions(user.id)
    run_jobs()
    fresh = mailbox.link("late@example.com")
    assert fresh != link and client.get(fresh).status_code == 303
    db.session.refresh(user)
    assert user.is_verified


def test_tokens_are_stored_hashed_and_bound_to_their_purpose(client, ctx, mailbox, run_jobs):
    client.post("/auth/signup", {"email": "purpose@example.com", "password": PASSWORD})
    run_jobs()
    token = mailbox.link("purpose@example.com").rsplit("/", 1)[1]
    assert db.session.scalar(select(AuthToken).where(AuthToken.token_hash == token)) is None
    # a verification token does not reset a password
    response = client.get(f"/auth/reset/{token}")
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)
    assert client.get("/auth/verify/not-a-real-token").status_code == 400


def test_password_reset_revokes_every_session_and_link_is_single_use(client, make_client, ctx, mailbox, run_jobs):
    user = make_user("forgot@example.com")
    phone = make_client()
    phone.login("forgot@example.com")
    anon = make_client()
    response = anon.post("/auth/reset", {"email": "FORGOT@example.com"})
    assert response.status_code == 303
    run_jobs()
    link = mailbox.link("forgot@example.com")
    path = link.removeprefix(re.match(r"https?://[^/]+", link).group(0))
    assert anon.get(path).status_code == 200
    weak = anon.post(path, {"password": "short"})
    assert "at least 10" in weak.get_data(as_text=True)
    done = anon.post(path, {"password": NEW_PASSWORD})
    assert done.status_code == 303 and done.headers["Location"] == "/auth/login"
    # the phone that was signed in is logged out on its next request
    assert phone.get("/account/").status_code == 302
    # the link is used up; the old password is gone and the new one works
    again = anon.get(path)
    assert again.status_code == 400 and "already used" in again.get_data(as_text=True)
    assert "not right" in anon.post("/auth/login", {"email": user.email, "password": PASSWORD}).get_data(as_text=True)
    anon.login(user.email, NEW_PASSWORD)
    assert {"user.password_reset_requested", "user.password_reset"} <= set(actions(user.id))


def test_password_reset_link_expires_after_an_hour(client, make_client, ctx, mailbox, run_jobs):
    make_user("slow@example.com")
    client.post("/auth/reset", {"email": "slow@example.com"})
    run_jobs()
    link = mailbox.link("slow@example.com")
    with time_machine.travel(utcnow() + timedelta(hours=2), tick=False):
        page = client.get(link)
        assert page.status_code == 400 and "expired" in page.get_data(as_text=True)
        post = client.post(link, {"password": NEW_PASSWORD})
        assert post.status_code == 400 and "expired" in post.get_data(as_text=True)
    make_client().login("slow@example.com")  # the old password still works


def test_reset_for_unknown_address_looks_the_same_and_sends_nothing(client, ctx, mailbox, run_jobs):
    response = client.post("/auth/reset", {"email": "ghost@example.com"})
    assert response.status_code == 303
    run_jobs()
    assert mailbox.to("ghost@example.com") == []


def test_change_password_keeps_this_browser_and_logs_out_others(client, make_client, ctx):
    user = make_user("change@example.com")
    other = make_client()
    other.login("change@example.com")
    client.login("change@example.com")
    wrong = client.post("/account/password", {"current_password": "nope nope nope", "new_password": NEW_PASSWORD})
    assert "current password is not right" in wrong.get_data(as_text=True)
    ok = client.post("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert ok.status_code == 303
    assert logged_in(client)
    assert other.get("/account/").status_code == 302
    assert "user.password_changed" in actions(user.id)


# Suspension -----------------------------------------------------------------------------------


def test_suspended_user_cannot_log_in_and_existing_sessions_stop(client, make_client, ctx):
    user = make_user("susp@example.com")
    client.login("susp@example.com")
    assert logged_in(client)
    user.suspended_at = utcnow()
    db.session.commit()
    assert client.get("/account/").status_code == 302
    response = make_client().post("/auth/login", {"email": "susp@example.com", "password": PASSWORD})
    assert response.status_code == 200 and "suspended" in response.get_data(as_text=True)
    # a wrong password does not reveal the suspension
    wrong = make_client().post("/auth/login", {"email": "susp@example.com", "password": "wrong password!"})
    assert "suspended" not in wrong.get_data(as_text=True)


# Second factor --------------------------------------------------------------------------------


def test_totp_enable_then_login_needs_the_code(client, make_client, ctx):
    user = make_user("totp@example.com")
    client.login("totp@example.com")
    client.post("/account/2fa/begin")
    page = client.get("/account/").get_data(as_text=True)
    secret = re.search(r"secret=([A-Z2-7]+)", page).group(1)
    bad = client.post("/account/2fa/enable", {"code": "000000"})
    assert "not right" in bad.get_data(as_text=True)
    enabled = client.post("/account/2fa/enable", {"code": pyotp.TOTP(secret).now()})
    assert enabled.status_code == 303 and enabled.headers["Location"] == "/account/"
    shown = client.get("/account/").get_data(as_text=True)
    assert "Your recovery codes" in shown  # shown once, after the redirect
    assert "Your recovery codes" not in client.get("/account/").get_data(as_text=True)  # a reload shows none

    other = make_client()
    first = other.post("/auth/login?next=/account/sessions", {"email": "totp@example.com", "password": PASSWORD})
    assert first.status_code == 303 and first.headers["Location"].startswith("/auth/login/2fa")
    assert other.get("/account/").status_code == 302  # not signed in yet
    wrong = other.post(first.headers["Location"], {"code": "123456"})
    assert "not right" in wrong.get_data(as_text=True)
    done = other.post(first.headers["Location"], {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 303 and done.headers["Location"] == "/account/sessions"
    assert logged_in(other)

    assert client.post("/account/2fa/disable", {"password": "wrong password!"}).status_code == 200
    assert client.post("/account/2fa/disable", {"password": PASSWORD}).status_code == 303
    assert {"user.totp_enabled", "user.totp_disabled", "user.login_failed"} <= set(actions(user.id))


def test_second_factor_page_without_password_step_goes_to_login(client, ctx):
    assert client.get("/auth/login/2fa").headers["Location"] == "/auth/login"


def test_profile_update_is_audited(client, ctx):
    user = make_user("prof@example.com")
    client.login("prof@example.com")
    assert client.post("/account/profile", {"name": "Tariro M."}).status_code == 303
    db.session.refresh(user)
    assert user.name == "Tariro M."
    assert "user.profile_updated" in actions(user.id)


@pytest.mark.parametrize("path", ["/auth/login", "/auth/signup", "/auth/reset"])
def test_forms_have_labelled_fields_without_empty_attributes(client, path):
    page = client.get(path).get_data(as_text=True)
    assert 'name="csrf_token"' in page and "<label" in page
    assert '="None"' not in page


def test_unknown_address_and_wrong_password_get_the_same_answer(make_client, ctx):
    make_user("known@example.com")
    unknown = make_client().post("/auth/login", {"email": "unknown@example.com", "password": "wrong password!"})
    wrong = make_client().post("/auth/login", {"email": "known@example.com", "password": "wrong password!"})
    assert unknown.status_code == wrong.status_code == 200
    for response in (unknown, wrong):
        assert "E-mail or password is not right." in response.get_data(as_text=True)
