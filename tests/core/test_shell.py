"""The UI shell and its guards: CSP without inline script, htmx fragments, redirects and flashes,
CSRF from hx-headers, cookie flags, probes and the production configuration checks."""

from __future__ import annotations

import re

import pytest
from flask import Response, flash

from tests.conftest import CSRF_RE
from tests.core.apps import make_app, shared_config
from tests.factories import add_member, make_org, make_user
from webapp.config import ConfigError, load_config
from webapp.mail import send_email


def test_pages_carry_a_csp_without_inline_script(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if " " in d.strip())
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
STYLE_ATTR = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
STYLE_TAG = re.compile(r"<style\b", re.I)
HANDLER_ATTR = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def _assert_no_inline_code(url: str, html: str) -> None:
    for name, pattern in (
        ("inline <script>", INLINE_SCRIPT),
        ("style= attribute", STYLE_ATTR),
        ("<style> element", STYLE_TAG),
        ("on*= handler", HANDLER_ATTR),
        ("javascript: URL", JS_URL),
    ):
        match = pattern.search(html)
        assert match is None, f"{url} has an {name}: {html[max(0, match.start() - 80) : match.end() + 80]}"


@pytest.fixture
def console_world(app):
    """Set up in an app context that is closed before the requests: a context held open across
    requests would share Flask-Login's cached user between test clients."""
    from types import SimpleNamespace

    from webapp.extensions import db

    with app.app_context():
        staff = make_user("staff@example.com", staff=True)
        owner = make_user("owner@example.com")
        org = make_org(owner, "Harare Retail", "harare-retail")
        add_member(org, make_user("member@example.com"), "MEMBER")
        message = send_email("owner@example.com", "auth/verify", subject="Hi", link="http://x/y", name="Owner")
        db.session.commit()
        world = {
            "staff": SimpleNamespace(id=staff.id),
            "owner": SimpleNamespace(id=owner.id),
            "org": SimpleNamespace(id=org.id, slug=org.slug),
            "message": SimpleNamespace(id=message.id),
        }
    return world


def test_no_page_has_inline_script_or_style(client, make_client, console_world):
    org, owner, message = console_world["org"], console_world["owner"], console_world["message"]
    anonymous = make_client()
    for url in ("/auth/login", "/auth/signup", "/auth/reset"):
        response = anonymous.get(url)
        assert response.status_code == 200, url
        _assert_no_inline_code(url, response.get_data(as_text=True))

    member = make_client()
    member.login("owner@example.com")
    for url in (
        "/account/",
        "/account/sessions",
        f"/o/{org.slug}/",
        f"/o/{org.slug}/members",
        f"/o/{org.slug}/settings",
    ):
        response = member.get(url)
        assert response.status_code == 200, url
        _assert_no_inline_code(url, response.get_data(as_text=True))

    client.login("staff@example.com")
    console = [
        "/admin/",
        "/admin/orgs",
        "/admin/orgs?q=harare",
        f"/admin/orgs/{org.id}",
        "/admin/users",
        "/admin/users?q=zzz-nobody",
        f"/admin/users/{owner.id}",
        "/admin/settings",
        "/admin/settings/admin.page_size",
        "/admin/audit",
        "/admin/audit?since=yesterday",
        "/admin/emails",
        f"/admin/emails/{message.id}",
        "/admin/jobs",
    ]
    for url in console:
        response = client.get(url)
        assert response.status_code in (200, 422), url
        _assert_no_inline_code(url, response.get_data(as_text=True))


def test_email_body_is_served_alone_under_a_sandbox_policy(client, console_world):
    message = console_world["message"]
    client.login("staff@example.com")
    detail = client.get(f"/admin/emails/{message.id}").get_data(as_text=True)
    frame = re.search(r"<iframe[^>]*>", detail).group(0)
    assert " sandbox " in frame and f'src="/admin/emails/{message.id}/body"' in frame
    assert "Hello Owner," in detail  # the text part, escaped, on the page itself

    body = client.get(f"/admin/emails/{message.id}/body")
    assert body.status_code == 200 and body.mimetype == "text/html"
    csp = body.headers["Content-Security-Policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp and "script-src" not in csp
    assert "http://x/y" in body.get_data(as_text=True)
    assert body.headers["Cache-Control"] == "private, no-store"


def test_htmx_gets_the_fragment_and_a_normal_request_the_page(client, console_world):
    client.login("staff@example.com")
    page = client.get("/admin/orgs?q=harare")
    fragment = client.get("/admin/orgs?q=harare", htmx=True, headers={"HX-Target": "results"})
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    assert "<html" in page.get_data(as_text=True)
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "<nav" not in html.split("<table")[0]
    assert "Harare Retail" in html and html.lstrip().startswith("<table")
    # a request that targets another element gets the whole page, not a wrong fragment
    other = client.get("/admin/orgs", htmx=True, headers={"HX-Target": "somewhere-else"})
    assert "<html" in other.get_data(as_text=True)


def test_redirects_become_hx_redirect_for_htmx(client, console_world):
    client.login("staff@example.com")
    normal = client.post("/admin/settings/admin.page_size", {"value": "30"})
    assert normal.status_code == 303 and normal.headers["Location"] == "/admin/settings"
    response = client.post("/admin/settings/admin.page_size", {"value": "40"}, htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/admin/settings"
    assert response.get_data(as_text=True) == ""


def test_flashes_reach_htmx_responses_out_of_band(app):
    with app.test_request_context("/admin/jobs", headers={"HX-Request": "true"}):
        flash("Saved & done.", "success")
        response = app.process_response(Response("<table></table>", mimetype="text/html"))
        html = response.get_data(as_text=True)
    assert html.startswith("<table></table>")
    oob = re.search(r'<div id="flashes" class="flashes" hx-swap-oob="true">(.*?)</div>', html, re.S)
    assert oob and 'class="flash flash-success" role="status">Saved &amp; done.</p>' in oob.group(1)

    with app.test_request_context("/admin/jobs"):
        flash("Not for htmx.", "info")
        plain = app.process_response(Response("<p>page</p>", mimetype="text/html")).get_data(as_text=True)
    assert plain == "<p>page</p>"  # a full page renders its flashes in the layout instead


def test_flash_after_an_htmx_action_arrives_with_the_fragment(client, console_world):
    """Through a real route: a setting saved over htmx redirects; the next htmx fragment carries the flash."""
    client.login("staff@example.com")
    client.post("/admin/settings/admin.page_size", {"value": "30"}, htmx=True)
    fragment = client.get("/admin/orgs", htmx=True, headers={"HX-Target": "results"}).get_data(as_text=True)
    assert 'hx-swap-oob="true"' in fragment and "Page size saved." in fragment


def test_htmx_posts_carry_the_csrf_token_in_a_header(app, client, console_world):
    client.login("staff@example.com")
    page = client.get("/admin/settings").get_data(as_text=True)
    body = re.search(r"<body[^>]*>", page).group(0)
    match = CSRF_RE.search(body)
    assert match and match.group(2), body  # hx-headers='{"X-CSRFToken": "..."}' on <body>
    token = match.group(2)

    refused = client.post("/admin/settings/admin.page_size", {"value": "31"}, csrf=False, htmx=True)
    assert refused.status_code == 400
    accepted = client.post(
        "/admin/settings/admin.page_size", {"value": "31"}, csrf=False, htmx=True, headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 200 and accepted.headers["HX-Redirect"] == "/admin/settings"
    from webapp.settings import get

    with app.app_context():
        assert get("admin.page_size") == 31


def test_session_cookie_flags(client, ctx):
    make_user("cookie@example.com")
    response = client.post("/auth/login", {"email": "cookie@example.com", "password": "correct horse battery"})
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


PROD_KEYS = {"SECRET_KEY": "s" * 40, "ENCRYPTION_KEY": "e" * 40}


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    monkeypatch.setenv("TESSERA_ENV", "production")
    for key in ("SECRET_KEY", "ENCRYPTION_KEY", "SECURE_COOKIES"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "s" * 40}, "ENCRYPTION_KEY must be set"),
        ({"SECRET_KEY": "short", "ENCRYPTION_KEY": "e" * 40}, "SECRET_KEY must be set to at least 32"),
        ({"SECRET_KEY": "s" * 40, "ENCRYPTION_KEY": "e" * 31}, "ENCRYPTION_KEY must be set to at least 32"),
    ],
)
def test_production_refuses_default_or_short_keys(production_env, tmp_path, env, message):
    for key, value in env.items():
        production_env.setenv(key, value)
    with pytest.raises(ConfigError, match=message):
        load_config(str(tmp_path))
    assert not (tmp_path / "secret_key").exists() and not (tmp_path / "encryption_key").exists()


def test_production_config_uses_secure_cookies(production_env, tmp_path):
    for key, value in PROD_KEYS.items():
        production_env.setenv(key, value)
    config = load_config(str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is True and config["REMEMBER_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True and config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SANDBOXES_ENABLED"] is False
    assert not (tmp_path / "secret_key").exists()  # nothing generated in production


def test_development_generates_keys_into_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("TESSERA_ENV", "development")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("ENCRYPTION_KEY", raising=False)
    first = load_config(str(tmp_path))
    assert len(first["SECRET_KEY"]) >= 32 and len(first["ENCRYPTION_KEY"]) >= 32
    assert (tmp_path / "encryption_key").stat().st_mode & 0o777 == 0o600
    assert load_config(str(tmp_path))["ENCRYPTION_KEY"] == first["ENCRYPTION_KEY"]  # stable across restarts
    assert first["SESSION_COOKIE_SECURE"] is False


def test_production_app_sets_secure_cookie_and_hsts(app, production_env):
    for key, value in PROD_KEYS.items():
        production_env.setenv(key, value)
    prod = make_app({**shared_config(app), "RATELIMIT_STORAGE_URI": "memory://", "JOBS_BACKEND": "inline"})
    with app.app_context():
        make_user("prod@example.com")
    from tests.conftest import Browserish

    client = Browserish(prod.test_client())
    response = client.post("/auth/login", {"email": "prod@example.com", "password": "correct horse battery"})
    assert response.status_code == 303
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    with prod.app_context():
        from webapp.extensions import db

        db.session.remove()
        db.engine.dispose()


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"]["database"] == "ok"


def test_readyz_answers_503_when_the_database_is_down(app):
    broken = make_app(
        {
            **shared_config(app),
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/nothing?connect_timeout=1",
            "RATELIMIT_STORAGE_URI": "memory://",
            "JOBS_BACKEND": "inline",
        }
    )
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable" and body["checks"]["database"].startswith("error: ")
    assert broken.test_client().get("/healthz").status_code == 200  # alive, just not ready


def test_navigation_follows_the_role(app, make_client):
    with app.app_context():
        owner, member = make_user("own@example.com"), make_user("mem@example.com")
        make_user("boss@example.com", staff=True)
        org = make_org(owner, "Kyoto Creators", "kyoto-creators")
        add_member(org, member, "MEMBER")
        slug = org.slug

    def nav(email):
        c = make_client()
        c.login(email)
        return c.get(f"/o/{slug}/" if email != "boss@example.com" else "/admin/").get_data(as_text=True)

    owner_page, member_page, staff_page = nav("own@example.com"), nav("mem@example.com"), nav("boss@example.com")
    assert f'href="/o/{slug}/members"' in owner_page and f'href="/o/{slug}/settings"' in owner_page
    assert f'href="/o/{slug}/members"' not in member_page and f'href="/o/{slug}/settings"' not in member_page
    assert 'href="/admin/"' not in owner_page and 'href="/admin/"' in staff_page
    for label in ("Organizations", "Users", "Audit log", "E-mails", "Job queues", "Settings"):
        assert f">{label}</a>" in staff_page
