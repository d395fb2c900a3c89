"""Connections through OAuth: status, reconnect keeps the refresh token, refresh with rotation before
publishing, only invalid_grant expires a connection."""

from datetime import timedelta

import httpx
from sqlalchemy import select

from tests.factories import add_member, make_org, make_user
from tests.studio.conftest import connect, connections_by_platform, post_form, sandbox_base, sandbox_control
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.models import Connection
from webapp.secrets import decrypt_field
from webapp.studio.models import Post, PublishJob


def test_connect_three_platforms_shows_accounts_active(ctx, client):
    user = make_user("maker@example.com")
    org = make_org(user, "Maker", "maker-studio")
    client.login(user.email)
    for platform, name in (("tiktok", "tt_maker"), ("instagram", "ig_maker"), ("youtube", "yt_maker")):
        connect(client, org.slug, platform, username=name)
    page = client.get(f"/o/{org.slug}/studio/connections").get_data(as_text=True)
    for name in ("@tt_maker", "@ig_maker", "@yt_maker"):
        assert name in page
    assert page.count(">ACTIVE<") == 3
    conns = connections_by_platform(org)
    assert conns["instagram"].token_expires_at > utcnow() + timedelta(days=50)  # long-lived token
    assert conns["tiktok"].refresh_expires_at > utcnow() + timedelta(days=300)  # read from refresh_expires_in


def test_billing_role_cannot_use_studio_and_other_orgs_get_404(ctx, client, make_client):
    owner = make_user("own@example.com")
    org = make_org(owner, "Own", "own-studio")
    biller = make_user("bill@example.com")
    add_member(org, biller, "BILLING")
    client.login(biller.email)
    assert client.get(f"/o/{org.slug}/studio/connections").status_code == 403
    stranger = make_user("stranger@example.com")
    make_org(stranger, "Other", "other-studio")
    other = make_client()
    other.login(stranger.email)
    assert other.get(f"/o/{org.slug}/studio/calendar").status_code == 404


def test_reconnect_keeps_a_valid_refresh_token_when_the_provider_omits_it(ctx, client):
    user = make_user("re@example.com")
    org = make_org(user, "Re", "re-studio")
    client.login(user.email)
    connect(client, org.slug, "youtube")
    conn = connections_by_platform(org)["youtube"]
    first_refresh = decrypt_field(conn, "refresh_token")
    first_access = decrypt_field(conn, "access_token")
    assert first_refresh
    connect(client, org.slug, "youtube")  # Google sends no refresh token the second time
    db.session.refresh(conn)
    assert decrypt_field(conn, "refresh_token") == first_refresh
    assert decrypt_field(conn, "access_token") != first_access
    assert len(db.session.scalars(select(Connection).where(Connection.organization_id == org.id)).all()) == 1


def test_tiktok_refresh_before_publishing_saves_the_rotated_refresh_token(creator, run_jobs):
    conn = connections_by_platform(creator.org)["tiktok"]
    old_refresh = decrypt_field(conn, "refresh_token")
    conn.token_expires_at = utcnow() + timedelta(minutes=5)  # about to expire
    db.session.commit()
    creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator, platforms=("tiktok",)))
    run_jobs()
    db.session.refresh(conn)
    new_refresh = decrypt_field(conn, "refresh_token")
    assert new_refresh and new_refresh != old_refresh
    assert conn.token_expires_at > utcnow() + timedelta(hours=20)
    post = db.session.scalar(select(Post).where(Post.organization_id == creator.org.id))
    assert post.status == Post.PUBLISHED
    # the old refresh token was spent: TikTok refuses it now
    answer = httpx.post(
        f"{sandbox_base(creator.client)}/tiktok/v2/oauth/token/",
        data={"grant_type": "refresh_token", "refresh_token": old_refresh},
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_a_temporary_refresh_error_does_not_expire_the_connection(creator, run_jobs):
    conn = connections_by_platform(creator.org)["tiktok"]
    # inside the 30 minutes before publishing, outside the framework's usual 10-minute margin
    conn.token_expires_at = utcnow() + timedelta(minutes=20)
    db.session.commit()
    sandbox_control(creator.client, "tiktok", faults={"token": ["server"]})
    creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator, platforms=("tiktok",)))
    run_jobs()
    db.session.refresh(conn)
    assert conn.status == Connection.CONNECTED
    target = db.session.scalar(select(PublishJob).where(PublishJob.platform == "TIKTOK"))
    assert target.status == PublishJob.PENDING  # will be retried
    assert "could not refresh" in target.error_message


def test_invalid_grant_expires_the_connection_and_fails_the_target_plainly(creator, run_jobs):
    conn = connections_by_platform(creator.org)["tiktok"]
    # inside the 30 minutes before publishing, outside the framework's usual 10-minute margin
    conn.token_expires_at = utcnow() + timedelta(minutes=20)
    db.session.commit()
    sandbox_control(creator.client, "tiktok", faults={"token": ["invalid_grant"]})
    creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator, platforms=("tiktok",)))
    run_jobs()
    db.session.refresh(conn)
    assert conn.status == Connection.EXPIRED
    target = db.session.scalar(select(PublishJob).where(PublishJob.platform == "TIKTOK"))
    assert target.status == PublishJob.FAILED and "expired" in target.error_message
    page = creator.client.get(f"/o/{creator.slug}/studio/connections").get_data(as_text=True)
    assert ">EXPIRED<" in page and "Reconnect" in page


def test_disconnect_marks_revoked(creator):
    conn = connections_by_platform(creator.org)["instagram"]
    response = creator.client.post(f"/o/{creator.slug}/studio/connections/{conn.id}/disconnect")
    assert response.status_code == 303
    page = creator.client.get(f"/o/{creator.slug}/studio/connections").get_data(as_text=True)
    assert ">REVOKED<" in page


def test_other_organizations_objects_answer_404(ctx, make_client):
    """Every studio route with an object id, requested by a member of another organization."""
    from tests.studio.sweep_samples import SAMPLES

    owner = make_user("victim@example.com")
    org = make_org(owner, "Victim", "victim-studio")
    ids = {name: make(org, owner) for name, make in SAMPLES.items()}
    intruder = make_user("intruder@example.com")
    theirs = make_org(intruder, "Intruder", "intruder-studio")
    client = make_client()
    client.login(intruder.email)
    s = theirs.slug
    for method, url in (
        ("get", f"/o/{s}/studio/videos/{ids['video_id']}"),
        ("get", f"/o/{s}/studio/videos/{ids['video_id']}/thumbnail.jpg"),
        ("post", f"/o/{s}/studio/videos/{ids['video_id']}/delete"),
        ("post", f"/o/{s}/studio/videos/{ids['video_id']}/rename"),
        ("get", f"/o/{s}/studio/posts/{ids['post_id']}"),
        ("get", f"/o/{s}/studio/posts/{ids['post_id']}/edit"),
        ("post", f"/o/{s}/studio/posts/{ids['post_id']}/cancel"),
        ("post", f"/o/{s}/studio/posts/{ids['post_id']}/move"),
        ("post", f"/o/{s}/studio/posts/{ids['post_id']}/reschedule"),
        ("post", f"/o/{s}/studio/posts/{ids['post_id']}/targets/{ids['target_id']}/retry"),
        ("post", f"/o/{s}/studio/connections/{ids['connection_id']}/disconnect"),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)


def test_instagram_long_lived_token_is_refreshed_within_a_week_of_expiry(creator):
    from webapp.studio.jobs import refresh_instagram_tokens

    conn = connections_by_platform(creator.org)["instagram"]
    old = decrypt_field(conn, "access_token")
    assert refresh_instagram_tokens() == 0  # 60 days left: nothing to do
    conn.token_expires_at = utcnow() + timedelta(days=3)
    db.session.commit()
    assert refresh_instagram_tokens() == 1
    db.session.refresh(conn)
    assert decrypt_field(conn, "access_token") != old
    assert conn.token_expires_at > utcnow() + timedelta(days=50)
    assert conn.status == Connection.CONNECTED
