"""Issue 13, point 7: HSTS and Secure cookies in production, and which address is the client's behind
a known number of reverse proxies (the address that login throttling counts)."""

from __future__ import annotations

import pytest

from tests.core.apps import second_app, shared_config
from tests.factories import PASSWORD, make_user
from webapp.config import ConfigError, load_config

PROD_KEYS = {"SECRET_KEY": "s" * 40, "ENCRYPTION_KEY": "e" * 40}


def _config(app, **extra):
    return {
        **shared_config(app),
        "TESTING": True,
        "RATELIMIT_STORAGE_URI": app.config["RATELIMIT_STORAGE_URI"],
        "JOBS_BACKEND": app.config["JOBS_BACKEND"],
        "LOGIN_LIMIT_PER_IP": "2/minute",
        **extra,
    }


def _login(client, email, forwarded=None, remote="192.0.2.10"):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post(
        "/auth/login",
        {"email": email, "password": "not the password"},
        headers=headers,
        environ_base={"REMOTE_ADDR": remote},
    )


@pytest.fixture
def env(monkeypatch):
    for key in ("TESSERA_ENV", "SECURE_COOKIES", "HSTS_MAX_AGE", "TRUSTED_PROXIES", "SECRET_KEY", "ENCRYPTION_KEY"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def test_production_sends_hsts_and_secure_cookies_development_does_not(app, env, tmp_path, ctx):
    make_user("prod@example.com")
    from tests.conftest import Browserish

    development = load_config(str(tmp_path / "dev"))
    assert development["HSTS_MAX_AGE"] == 0 and development["SESSION_COOKIE_SECURE"] is False
    answer = app.test_client().get("/auth/login")
    assert "Strict-Transport-Security" not in answer.headers

    env.setenv("TESSERA_ENV", "production")
    for key, value in PROD_KEYS.items():
        env.setenv(key, value)
    production = load_config(str(tmp_path / "prod"))
    assert production["HSTS_MAX_AGE"] == 31536000
    assert production["SESSION_COOKIE_SECURE"] is True and production["REMEMBER_COOKIE_SECURE"] is True
    with second_app(app, _config(app, LOGIN_LIMIT_PER_IP="100/minute")) as prod:
        client = Browserish(prod.test_client())
        page = client.get("/auth/login")
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
        signed_in = client.post("/auth/login", {"email": "prod@example.com", "password": PASSWORD})
        assert signed_in.status_code == 303
        cookie = next(v for v in signed_in.headers.getlist("Set-Cookie") if v.startswith("session="))
        assert "; Secure" in cookie and "HttpOnly" in cookie


def test_hsts_max_age_is_a_setting(env, tmp_path):
    env.setenv("SECURE_COOKIES", "1")
    env.setenv("HSTS_MAX_AGE", "600")
    config = load_config(str(tmp_path))
    assert config["HSTS_MAX_AGE"] == 600 and config["SESSION_COOKIE_SECURE"] is True


def test_a_negative_number_of_proxies_is_refused(env, tmp_path):
    env.setenv("TRUSTED_PROXIES", "-1")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_config(str(tmp_path))


def test_without_trusted_proxies_a_spoofed_forwarded_for_changes_nothing(app, make_client, ctx):
    """Default 0: the connecting address is throttled, whatever X-Forwarded-For claims."""
    assert app.config["TRUSTED_PROXIES"] == 0
    make_user("spoof@example.com")
    from tests.auth.test_accounts import config

    with config(app, LOGIN_LIMIT_PER_IP="2/minute"):
        client = make_client()
        assert _login(client, "spoof@example.com", "203.0.113.1").status_code == 200
        assert _login(client, "spoof@example.com", "203.0.113.2").status_code == 200
        assert _login(client, "spoof@example.com", "203.0.113.3").status_code == 429
        assert _login(client, "spoof@example.com").status_code == 429
        # another connecting address is another budget
        assert _login(client, "spoof@example.com", remote="192.0.2.11").status_code == 200


def test_with_one_trusted_proxy_the_last_hop_is_the_client(app, ctx):
    make_user("hop@example.com")
    from tests.conftest import Browserish

    with second_app(app, _config(app, TRUSTED_PROXIES=1)) as proxied:
        client = Browserish(proxied.test_client())
        # The load balancer (192.0.2.10) appends the address it saw; what the client wrote before it is not trusted.
        assert _login(client, "hop@example.com", "198.51.100.1").status_code == 200
        assert _login(client, "hop@example.com", "203.0.113.99, 198.51.100.1").status_code == 200
        assert _login(client, "hop@example.com", "203.0.113.98, 198.51.100.1").status_code == 429
        # another client behind the same balancer has its own budget
        other = _login(client, "hop@example.com", "198.51.100.2")
        assert other.status_code == 200
        # the address the sign-in is recorded with is the client's too
        signed_in = client.post(
            "/auth/login",
            {"email": "hop@example.com", "password": PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.3"},
            environ_base={"REMOTE_ADDR": "192.0.2.10"},
        )
        assert signed_in.status_code == 303
    from sqlalchemy import select

    from webapp.auth.models import UserSession
    from webapp.extensions import db

    db.session.expire_all()
    assert db.session.scalar(select(UserSession.ip_address).order_by(UserSession.id.desc())) == "198.51.100.3"
