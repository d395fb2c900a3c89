"""Issue 13, point 4: a stranger cannot lock the owner out. Failed steps count per account *and*
source address; a right password or code never counts; several windows make the wait grow."""

from __future__ import annotations

import time

import pyotp

from tests.auth.test_accounts import config, logged_in
from tests.factories import PASSWORD, make_user
from webapp.auth import services as accounts
from webapp.extensions import db

STRANGER = {"REMOTE_ADDR": "203.0.113.66"}
THIEF = {"REMOTE_ADDR": "203.0.113.77"}  # an address of its own: no other test's failures can count here
OWNER = {"REMOTE_ADDR": "198.51.100.20"}


def _password(client, password, where, email="owner@example.com"):
    return client.post("/auth/login", {"email": email, "password": password}, environ_base=where)


def _code(client, code, where):
    return client.post("/auth/login/2fa", {"code": code}, environ_base=where)


def test_the_owner_elsewhere_signs_in_while_the_strangers_address_is_throttled(app, make_client, ctx):
    make_user("owner@example.com")
    with config(app, LOGIN_LIMIT_PER_ACCOUNT="3/minute"):
        stranger = make_client()
        assert [_password(stranger, "guess number one", STRANGER).status_code for _ in range(3)] == [200] * 3
        assert _password(stranger, PASSWORD, STRANGER).status_code == 429  # even the right one, from there
        owner = make_client()
        assert _password(owner, PASSWORD, OWNER).status_code == 303
        assert logged_in(owner)
        # the owner's own mistakes elsewhere are counted apart, and the stranger stays blocked
        assert _password(make_client(), "owner typo", OWNER).status_code == 200
        assert _password(make_client(), PASSWORD, OWNER).status_code == 303
        assert _password(make_client(), PASSWORD, STRANGER).status_code == 429


def _with_totp(email: str) -> str:
    user = make_user(email)
    secret = accounts.begin_totp(user)
    accounts.enable_totp(user, pyotp.TOTP(secret).now())
    db.session.commit()
    return secret


def test_after_a_correct_second_factor_the_user_is_not_blocked(app, make_client, ctx):
    """Wrong codes count; the right code never does, so the owner who has the phone keeps getting in,
    while someone who has only the password is throttled at the code step on their own address."""
    secret = _with_totp("owner@example.com")
    with config(app, LOGIN_LIMIT_PER_ACCOUNT="3/minute"):
        owner = make_client()
        assert _password(owner, PASSWORD, OWNER).headers["Location"].startswith("/auth/login/2fa")
        assert [_code(owner, "000000", OWNER).status_code for _ in range(2)] == [200, 200]
        assert _code(owner, pyotp.TOTP(secret).now(), OWNER).status_code == 303
        assert logged_in(owner)
        for _ in range(3):  # more right sign-ins than the limit: none of them counts
            again = make_client()
            assert _password(again, PASSWORD, OWNER).status_code == 303
            assert _code(again, pyotp.TOTP(secret).now(), OWNER).status_code == 303
            assert logged_in(again)

        thief = make_client()  # has the password, not the phone
        assert _password(thief, PASSWORD, THIEF).status_code == 303
        assert [_code(thief, "123456", THIEF).status_code for _ in range(3)] == [200] * 3
        assert _code(thief, pyotp.TOTP(secret).now(), THIEF).status_code == 429
        assert not logged_in(thief)
        late = make_client()
        assert _password(late, PASSWORD, OWNER).status_code == 303
        assert _code(late, pyotp.TOTP(secret).now(), OWNER).status_code == 303


def test_the_wait_grows_with_more_failures(app, make_client, ctx):
    make_user("owner@example.com")
    with config(app, LOGIN_LIMIT_PER_ACCOUNT="2 per 2 seconds;4 per minute"):
        stranger = make_client()
        assert [_password(stranger, "guess", STRANGER).status_code for _ in range(2)] == [200, 200]
        first = _password(stranger, "guess", STRANGER)
        assert first.status_code == 429 and int(first.headers["Retry-After"]) <= 2
        time.sleep(2.2)
        assert [_password(stranger, "guess", STRANGER).status_code for _ in range(2)] == [200, 200]
        second = _password(stranger, "guess", STRANGER)
        assert second.status_code == 429  # now the minute window is used up too
        time.sleep(2.2)
        assert _password(stranger, PASSWORD, STRANGER).status_code == 429  # the short wait is not enough now
        assert _password(make_client(), PASSWORD, OWNER).status_code == 303  # the owner, meanwhile


def test_the_default_account_limit_has_growing_windows(app):
    from webapp.config import load_config

    default = load_config(app.instance_path)["LOGIN_LIMIT_PER_ACCOUNT"]
    assert default.count(";") >= 2 and default.startswith("5/minute")
