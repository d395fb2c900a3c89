import threading
import traceback
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import time_machine
from sqlalchemy import MetaData, func, select
from sqlalchemy.orm import Session

from tests.conftest import DATABASE_URL, IS_POSTGRES
from tests.factories import add_member, make_user
from tests.integrations.helpers import connect, consent, fault, owner_and_org, query, start
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations import oauth
from webapp.integrations.models import Connection, OutboundCall
from webapp.secrets import decrypt_field


def _connections():
    return db.session.scalar(select(func.count()).select_from(Connection))


def test_refusal_at_the_consent_page_stores_nothing(client, ctx):
    _, org = owner_and_org(client)
    callback = consent(client, start(client, org, "freee"), allow=False)
    assert query(callback)["error"] == "access_denied"
    page = client.get(callback)
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "did not allow" in text and "Nothing was saved" in text
    assert _connections() == 0


def test_provider_error_and_failed_token_exchange_store_nothing(client, ctx, live_server, sandbox_url):
    _, org = owner_and_org(client)
    callback = consent(client, start(client, org, "google_drive"))
    state = query(callback)["state"]
    page = client.get(f"/oauth/google_drive/callback?error=server_error&error_description=Backend+down&state={state}")
    assert page.status_code == 400 and "Backend down" in page.get_data(as_text=True)

    fault(sandbox_url, "google_drive", "/token", 500, times=1)
    callback = consent(client, start(client, org, "google_drive"))
    page = client.get(callback)
    assert page.status_code == 400 and "did not complete the connection" in page.get_data(as_text=True)
    assert _connections() == 0
    failed = db.session.scalar(select(OutboundCall).where(OutboundCall.action == "oauth_connected"))
    assert failed.status_code == 500 and not failed.success


def test_replayed_state_is_refused(client, ctx):
    _, org = owner_and_org(client)
    callback = consent(client, start(client, org, "freee"))
    assert client.get(callback).status_code == 303
    replay = client.get(callback)
    assert replay.status_code == 400 and "already used" in replay.get_data(as_text=True)
    assert _connections() == 1


def test_state_of_another_user_or_session_is_refused(client, make_client, ctx):
    owner, org = owner_and_org(client)
    callback = consent(client, start(client, org, "freee"))
    # another user (even an admin of the same org) cannot complete it
    intruder = make_user("intruder@example.com")
    add_member(org, intruder, "ADMIN")
    other = make_client()
    other.login("intruder@example.com")
    foreign = other.get(callback)
    assert foreign.status_code == 400 and "not started from this browser session" in foreign.get_data(as_text=True)
    # nor the same user in another browser session
    second = make_client()
    second.login(owner.email)
    assert second.get(callback).status_code == 400
    # a made-up state neither
    forged = client.get("/oauth/freee/callback?code=abc&state=forged")
    assert forged.status_code == 400
    assert _connections() == 0
    # the rightful browser still completes it
    assert client.get(callback).status_code == 303 and _connections() == 1


def test_pkce_protects_the_code(client, ctx, live_server, sandbox_url):
    _, org = owner_and_org(client)
    first = start(client, org, "freee")
    second_callback = consent(client, start(client, org, "freee"))
    code = query(second_callback)["code"]
    # someone who steals the code cannot redeem it without the verifier
    stolen = httpx.post(
        f"{sandbox_url}/sandbox/freee/public_api/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": f"{live_server}/oauth/freee/callback",
            "client_id": "tessera-freee",
            "client_secret": "tessera-freee-sandbox-secret",
            "code_verifier": "not-the-verifier",
        },
    )
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    # a code injected into another authorization (other verifier) fails and stores nothing
    first_state = query(first)["state"]
    injected = client.get(f"/oauth/freee/callback?code={code}&state={first_state}")
    assert injected.status_code == 400 and _connections() == 0
    assert "code_challenge" in first and "code_challenge_method=S256" in first and "prompt=select_company" in first
    # the rightful callback (its own verifier) still works
    assert client.get(second_callback).status_code == 303 and _connections() == 1


def test_member_without_permission_cannot_connect(client, make_client, ctx):
    _owner, org = owner_and_org(client)
    member = make_user("member@example.com")
    add_member(org, member, "MEMBER")
    other = make_client()
    other.login("member@example.com")
    assert other.get(f"/o/{org.slug}/integrations/").status_code == 403
    assert other.post(f"/o/{org.slug}/integrations/freee/connect").status_code == 403
    assert client.post(f"/o/{org.slug}/integrations/unknown/connect").status_code == 404
    no_csrf = client.post(f"/o/{org.slug}/integrations/freee/connect", csrf=False)
    assert no_csrf.status_code == 400


def test_tokens_are_encrypted_at_rest(client, ctx):
    _, org = owner_and_org(client)
    conn = connect(client, org, "freee")
    access, refresh = decrypt_field(conn, "access_token"), decrypt_field(conn, "refresh_token")
    assert access.startswith("sbx_a_") and refresh.startswith("sbx_r_")
    assert conn.access_token_iv != conn.refresh_token_iv and len(conn.access_token_tag) == 16
    needles = [access.encode(), refresh.encode()]
    # every column of every table, as the database hands it back
    stored = MetaData()
    stored.reflect(bind=db.engine)  # every table the database really has
    with db.engine.connect() as raw:
        for table in stored.tables.values():  # order does not matter (and the logo/avatar keys make a cycle)
            for row in raw.execute(table.select()):
                blob = repr(tuple(row)).encode()
                assert not any(n in blob for n in needles), table.name
    if not IS_POSTGRES:
        path = Path(DATABASE_URL.removeprefix("sqlite:///"))
        data = path.read_bytes() + (
            path.with_name(path.name + "-wal").read_bytes() if path.with_name(path.name + "-wal").exists() else b""
        )
        assert not any(n in data for n in needles)
    # and not in the call log or any page
    assert all(access not in (c.error or "") for c in db.session.scalars(select(OutboundCall)))


def test_refresh_rotates_the_single_use_refresh_token(client, ctx, live_server, sandbox_url):
    _, org = owner_and_org(client)
    conn = connect(client, org, "freee")
    old_refresh = decrypt_field(conn, "refresh_token")
    old_access = decrypt_field(conn, "access_token")
    assert oauth.refresh_if_needed(conn) is False  # fresh: nothing to do
    with time_machine.travel(utcnow() + timedelta(hours=5, minutes=55)):
        assert oauth.refresh_if_needed(conn) is True
        token = oauth.access_token(conn)
    assert token != old_access and decrypt_field(conn, "refresh_token") != old_refresh
    assert conn.token_expires_at > utcnow() + timedelta(hours=11)
    # the old access token was invalidated and the old refresh token is spent
    old = httpx.get(
        f"{sandbox_url}/sandbox/freee/api/1/companies/1001", headers={"Authorization": f"Bearer {old_access}"}
    )
    assert old.status_code == 401 and old.json()["errors"][0]["messages"]


def test_invalid_grant_expires_and_tells_the_owner(client, ctx, run_jobs, mailbox, live_server, sandbox_url):
    owner, org = owner_and_org(client)
    conn = connect(client, org, "freee")
    # a temporary failure leaves it CONNECTED with the error
    fault(sandbox_url, "freee", "/public_api/token", 503, times=1)
    with pytest.raises(oauth.ConnectionUnavailable) as temporary:
        oauth.refresh_if_needed(conn, force=True)
    assert not isinstance(temporary.value, oauth.ConnectionExpired)
    db.session.refresh(conn)
    assert conn.status == "CONNECTED" and "503" in conn.last_error
    # the grant is revoked at freee: the next refresh answers invalid_grant → EXPIRED
    httpx.post(f"{sandbox_url}/sandbox/freee/public_api/revoke", data={"token": decrypt_field(conn, "refresh_token")})
    with pytest.raises(oauth.ConnectionExpired):
        oauth.refresh_if_needed(conn, force=True)
    db.session.commit()
    run_jobs()
    db.session.refresh(conn)
    assert conn.status == "EXPIRED" and "invalid_grant" in conn.last_error
    message = mailbox.last_to(owner.email)
    assert "freee connection needs to be renewed" in message["Subject"]
    page = client.get(f"/o/{org.slug}/integrations/").get_data(as_text=True)
    assert "Expired" in page and "Connect again" in page


@pytest.mark.postgres
def test_concurrent_refresh_spends_the_refresh_token_once(app, client, ctx, live_server, sandbox_url):
    _, org = owner_and_org(client)
    conn = connect(client, org, "freee")
    conn.token_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    conn_id = conn.id  # read once here: the workers must not touch the test's session
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        # each worker has its own database session, as two RQ workers would
        with app.app_context(), Session(db.engine) as session:
            try:
                row = session.get(Connection, conn_id)
                barrier.wait()
                results.append(oauth.refresh_if_needed(row))
            except Exception as error:  # surfaced below
                errors.append((error, traceback.format_exc()))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors[0][1] if errors else ""
    assert sorted(results) == [False, True]
    refreshes = list(db.session.scalars(select(OutboundCall).where(OutboundCall.action == "token_refreshed")))
    assert len(refreshes) == 1 and refreshes[0].success
    db.session.expire_all()
    conn = db.session.get(Connection, conn.id)
    assert conn.status == "CONNECTED" and conn.token_expires_at > utcnow() + timedelta(hours=5)
    usable = httpx.get(
        f"{sandbox_url}/sandbox/freee/api/1/companies/1001",
        headers={"Authorization": f"Bearer {oauth.access_token(conn)}"},
    )
    assert usable.status_code == 200


def test_periodic_refresh_job(client, ctx):
    from webapp.integrations.jobs import refresh_expiring_connections

    _, org = owner_and_org(client)
    conn = connect(client, org, "google_drive")
    before = conn.token_expires_at
    refresh_expiring_connections()  # google access tokens last an hour: due
    db.session.expire_all()
    conn = db.session.get(Connection, conn.id)
    assert conn.token_expires_at > before and conn.status == "CONNECTED"
    assert db.session.scalar(select(func.count()).where(OutboundCall.action == "token_refreshed")) == 1
