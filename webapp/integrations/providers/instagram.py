"""Instagram API with Instagram Login: OAuth (code → short-lived → long-lived token, through the
integrations framework), long-lived token refresh, and Reels publishing:
``content_publishing_limit`` → REELS container from a fetchable video URL → poll ``status_code``
until FINISHED → ``media_publish``. Metrics from media insights.

Instagram has no refresh token: a long-lived access token (60 days) is exchanged for a fresh one
with ``refresh_access_token``. ``refresh_token_if_needed`` does that with the framework's
guarantees (one refresh at a time per connection, saved in one commit, only an invalid token → EXPIRED).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for

from webapp.core.models import utcnow
from webapp.core.transaction import own_session
from webapp.extensions import db
from webapp.integrations import oauth
from webapp.integrations.models import Connection
from webapp.integrations.oauth import Account, OAuthProvider, TokenSet, register
from webapp.integrations.providers.client import ProviderClient, ProviderError
from webapp.secrets import decrypt_field, encrypt_field

NAME = "instagram"
VERSION = "v21.0"
REFRESH_MARGIN = timedelta(days=7)


def api(path: str) -> str:
    return current_app.config["INSTAGRAM_API_URL"] + path


def _identify(tokens: TokenSet, client: ProviderClient) -> Account:
    # The code gives a one-hour token; exchange it for the 60-day one before anything is saved.
    response = client.request(
        "token_exchanged",
        "GET",
        api("/access_token"),
        params={
            "grant_type": "ig_exchange_token",
            "client_secret": PROVIDER.client_secret,
            "access_token": tokens.access_token,
        },
        retry=False,
    )
    long_lived = response.json()
    tokens.access_token = long_lived["access_token"]
    tokens.expires_in = int(long_lived.get("expires_in") or 5184000)
    me = client.request(
        "me",
        "GET",
        api(f"/{VERSION}/me"),
        params={"fields": "user_id,username"},
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    ).json()
    return Account(
        id=str(me.get("user_id") or me.get("id")), name=me.get("username"), details={"platform": "INSTAGRAM"}
    )


def _landing(connection) -> str:
    return url_for("studio.connections", slug=connection.organization.slug)


PROVIDER = register(
    OAuthProvider(
        name=NAME,
        label="Instagram",
        config_prefix="INSTAGRAM",
        identify=_identify,
        scopes=(
            "instagram_business_basic",
            "instagram_business_content_publish",
            "instagram_business_manage_insights",
            "instagram_business_manage_comments",  # the first comment
        ),
        scope_separator=",",
        pkce=False,
        permission="studio",
        landing=_landing,
    )
)


def _invalid_token(error: ProviderError) -> bool:
    payload = error.payload if isinstance(error.payload, dict) else {}
    found = payload.get("error")
    err = found if isinstance(found, dict) else {}
    return err.get("code") == 190 or (err.get("type") == "OAuthException" and error.status_code in (400, 401))


def refresh_token_if_needed(connection: Connection, *, margin: timedelta = REFRESH_MARGIN, force: bool = False) -> bool:
    if connection.status != Connection.CONNECTED:
        raise oauth.ConnectionUnavailable("The Instagram connection is not connected.")
    if not force and not oauth.needs_refresh(connection, margin):
        return False
    seen = connection.last_refreshed_at
    expired = None
    refreshed = False
    with (
        oauth._local_lock(connection.id),
        own_session(
            "the refreshed long-lived token is stored whatever the request does", expire_on_commit=False
        ) as session,
    ):
        row = session.get(Connection, connection.id, with_for_update=True, populate_existing=True)
        if row is None or row.status != Connection.CONNECTED:
            session.rollback()
            db.session.expire(connection)
            raise oauth.ConnectionUnavailable("The Instagram connection is not connected.")
        if (force and row.last_refreshed_at != seen) or (not force and not oauth.needs_refresh(row, margin)):
            session.rollback()
            db.session.expire(connection)
            return False
        try:
            with ProviderClient(NAME, org_id=row.organization_id) as client:
                body = client.request(
                    "token_refreshed",
                    "GET",
                    api("/refresh_access_token"),
                    params={"grant_type": "ig_refresh_token", "access_token": decrypt_field(row, "access_token")},
                    retry=False,
                ).json()
        except ProviderError as error:
            row.last_error = f"Token refresh failed: {str(error)[:200]}"
            row.last_error_at = utcnow()
            if _invalid_token(error):
                row.status = Connection.EXPIRED
                expired = row.last_error
            session.commit()
            if expired is None:
                db.session.expire(connection)
                raise oauth.ConnectionUnavailable(
                    "Instagram could not refresh the connection just now; it will be retried."
                ) from None
        else:
            now = utcnow()
            encrypt_field(row, "access_token", body["access_token"])
            row.token_expires_at = now + timedelta(seconds=int(body.get("expires_in") or 5184000))
            row.last_refreshed_at = now
            row.last_error = None
            row.last_error_at = None
            session.commit()
            refreshed = True
    db.session.expire(connection)
    if expired is not None:
        oauth._on_expired(connection, expired)
        raise oauth.ConnectionExpired("The Instagram connection has expired. Connect it again.")
    return refreshed


def _call(connection: Connection, client: ProviderClient, action: str, method: str, url: str, **kwargs):
    """An authorized Graph call; on an invalid-token answer, one forced refresh and one retry."""
    headers = dict(kwargs.pop("headers", None) or {})
    for attempt in (1, 2):
        if connection.status != Connection.CONNECTED:
            raise oauth.ConnectionUnavailable("The Instagram connection is not connected.")
        refresh_token_if_needed(connection)
        headers["Authorization"] = f"Bearer {decrypt_field(connection, 'access_token')}"
        try:
            return client.request(action, method, url, headers=headers, **kwargs)
        except ProviderError as error:
            if attempt == 1 and _invalid_token(error):
                refresh_token_if_needed(connection, force=True)
                continue
            raise
    raise AssertionError("unreachable")


def publishing_limit(connection, client: ProviderClient) -> tuple[int, int]:
    """(used, total) posts in the last 24 hours."""
    body = _call(
        connection,
        client,
        "publishing_limit",
        "GET",
        api(f"/{VERSION}/{connection.account_id}/content_publishing_limit"),
        params={"fields": "quota_usage,config"},
    ).json()
    item = (body.get("data") or [{}])[0]
    return int(item.get("quota_usage") or 0), int((item.get("config") or {}).get("quota_total") or 100)


def create_reel_container(connection, client: ProviderClient, video_url: str, caption: str, share_to_feed: bool) -> str:
    body = _call(
        connection,
        client,
        "container_created",
        "POST",
        api(f"/{VERSION}/{connection.account_id}/media"),
        data={
            "media_type": "REELS",
            "video_url": video_url,
            "caption": caption,
            "share_to_feed": str(share_to_feed).lower(),
        },
        retry=False,
    ).json()
    return str(body["id"])


def container_status(connection, client: ProviderClient, container_id: str) -> tuple[str, str]:
    body = _call(
        connection,
        client,
        "container_status",
        "GET",
        api(f"/{VERSION}/{container_id}"),
        params={"fields": "status_code,status"},
    ).json()
    return body.get("status_code", ""), body.get("status", "")


def publish_container(connection, client: ProviderClient, container_id: str) -> str:
    body = _call(
        connection,
        client,
        "media_published",
        "POST",
        api(f"/{VERSION}/{connection.account_id}/media_publish"),
        data={"creation_id": container_id},
        retry=False,
    ).json()
    return str(body["id"])


def post_comment(connection, client: ProviderClient, media_id: str, message: str) -> str:
    """``POST /{ig-media-id}/comments`` with ``message``; not retried (a repeat would comment twice)."""
    body = _call(
        connection,
        client,
        "comment_created",
        "POST",
        api(f"/{VERSION}/{media_id}/comments"),
        data={"message": message},
        retry=False,
    ).json()
    return str(body["id"])


def media_insights(connection, client: ProviderClient, media_id: str) -> dict:
    body = _call(
        connection,
        client,
        "media_insights",
        "GET",
        api(f"/{VERSION}/{media_id}/insights"),
        params={"metric": "views,likes,comments,shares"},
    ).json()
    out = {"views": 0, "likes": 0, "comments": 0, "shares": 0}
    for item in body.get("data") or []:
        if item.get("name") in out:
            out[item["name"]] = int(((item.get("values") or [{}])[0]).get("value") or 0)
    return out
