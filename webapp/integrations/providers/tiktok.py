"""TikTok: Login Kit OAuth (through the integrations OAuth framework) and the Content Posting API.

Direct Post with FILE_UPLOAD: ``creator_info/query`` → ``video/init`` (publish_id, upload_url) →
chunked ``PUT`` with ``Content-Range`` → ``status/fetch`` until PUBLISH_COMPLETE or FAILED.
Metrics from ``video/query``. Refresh tokens rotate on every refresh (the framework saves both).
"""

from __future__ import annotations

from flask import current_app, url_for

from webapp.integrations.oauth import Account, OAuthProvider, TokenSet, authorized_request, register
from webapp.integrations.providers.client import ProviderClient, ProviderError

NAME = "tiktok"


def api(path: str) -> str:
    return current_app.config["TIKTOK_API_URL"] + path


def check(payload: dict) -> dict:
    """TikTok wraps answers as ``{"data": …, "error": {"code": "ok"}}``; a non-ok code is an error."""
    error = (payload or {}).get("error") or {}
    if error.get("code") not in (None, "ok"):
        raise ProviderError(
            f"tiktok answered {error.get('code')}: {error.get('message', '')}"[:300], kind="client", payload=payload
        )
    return (payload or {}).get("data") or {}


def _identify(tokens: TokenSet, client: ProviderClient) -> Account:
    response = client.request(
        "user_info",
        "GET",
        api("/v2/user/info/"),
        params={"fields": "open_id,username,display_name"},
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    )
    user = check(response.json()).get("user") or {}
    open_id = user.get("open_id") or tokens.extra.get("open_id")
    return Account(
        id=str(open_id), name=user.get("username") or user.get("display_name"), details={"platform": "TIKTOK"}
    )


def _landing(connection) -> str:
    return url_for("studio.connections", slug=connection.organization.slug)


PROVIDER = register(
    OAuthProvider(
        name=NAME,
        label="TikTok",
        config_prefix="TIKTOK",
        identify=_identify,
        scopes=("user.info.basic", "video.publish", "video.list"),
        scope_separator=",",
        client_id_param="client_key",
        revoke_token="access_token",
        permission="studio",
        landing=_landing,
    )
)


def creator_info(connection, client: ProviderClient) -> dict:
    """Privacy options, disabled interactions and the longest video the creator may post now."""
    response = authorized_request(
        connection, client, "creator_info", "POST", api("/v2/post/publish/creator_info/query/"), json={}
    )
    return check(response.json())


def init_upload(connection, client: ProviderClient, post_info: dict, size: int, chunk_size: int) -> dict:
    """Returns ``{"publish_id", "upload_url"}``. Not retried automatically: the caller decides."""
    count = max(1, size // chunk_size)
    body = {
        "post_info": post_info,
        "source_info": {
            "source": "FILE_UPLOAD",
            "video_size": size,
            "chunk_size": chunk_size,
            "total_chunk_count": count,
        },
    }
    response = authorized_request(
        connection, client, "video_init", "POST", api("/v2/post/publish/video/init/"), json=body, retry=False
    )
    return check(response.json())


def chunk_plan(size: int, chunk_size: int) -> list[tuple[int, int]]:
    """(start, end) byte ranges: equal chunks, the last one takes the remainder (TikTok's rule)."""
    chunk_size = min(chunk_size, size)
    count = max(1, size // chunk_size)
    ranges = [(i * chunk_size, (i + 1) * chunk_size - 1) for i in range(count)]
    ranges[-1] = (ranges[-1][0], size - 1)
    return ranges


def put_chunk(client: ProviderClient, upload_url: str, data: bytes, start: int, total: int, content_type: str):
    end = start + len(data) - 1
    return client.request(
        "video_upload",
        "PUT",
        upload_url,
        content=data,
        headers={"Content-Range": f"bytes {start}-{end}/{total}", "Content-Type": content_type},
        retry=False,
        metadata={"start": start, "end": end, "total": total},
    )


def fetch_status(connection, client: ProviderClient, publish_id: str) -> dict:
    response = authorized_request(
        connection,
        client,
        "publish_status",
        "POST",
        api("/v2/post/publish/status/fetch/"),
        json={"publish_id": publish_id},
    )
    return check(response.json())


def video_metrics(connection, client: ProviderClient, ids: list[str]) -> dict[str, dict]:
    response = authorized_request(
        connection,
        client,
        "video_query",
        "POST",
        api("/v2/video/query/"),
        params={"fields": "id,view_count,like_count,comment_count,share_count"},
        json={"filters": {"video_ids": ids[:20]}},
    )
    out = {}
    for v in check(response.json()).get("videos") or []:
        out[str(v["id"])] = {
            "views": int(v.get("view_count") or 0),
            "likes": int(v.get("like_count") or 0),
            "comments": int(v.get("comment_count") or 0),
            "shares": int(v.get("share_count") or 0),
        }
    return out
