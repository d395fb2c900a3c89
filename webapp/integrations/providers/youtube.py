"""YouTube Data API v3: Google OAuth (through the integrations framework), channels.list, resumable
uploads (session, chunks in 256 KiB multiples, resume by asking what arrived) and statistics."""

from __future__ import annotations

from flask import current_app, url_for

from webapp.integrations.oauth import Account, OAuthProvider, TokenSet, access_token, authorized_request, register
from webapp.integrations.providers.client import ProviderClient, ProviderError, ProviderResponse

NAME = "youtube"
CHUNK_UNIT = 256 * 1024


def api(path: str) -> str:
    return current_app.config["YOUTUBE_API_URL"] + path


def _identify(tokens: TokenSet, client: ProviderClient) -> Account:
    response = client.request(
        "channels_list",
        "GET",
        api("/youtube/v3/channels"),
        params={"part": "snippet", "mine": "true"},
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    )
    items = response.json().get("items") or []
    if not items:
        raise ProviderError("youtube: this Google account has no YouTube channel", kind="client")
    channel = items[0]
    snippet = channel.get("snippet") or {}
    name = (snippet.get("customUrl") or snippet.get("title") or "").lstrip("@")
    return Account(id=channel["id"], name=name, details={"platform": "YOUTUBE", "channel_title": snippet.get("title")})


def _landing(connection) -> str:
    return url_for("studio.connections", slug=connection.organization.slug)


PROVIDER = register(
    OAuthProvider(
        name=NAME,
        label="YouTube",
        config_prefix="YOUTUBE",
        identify=_identify,
        scopes=(
            "https://www.googleapis.com/auth/youtube.upload",
            "https://www.googleapis.com/auth/youtube.readonly",
        ),
        authorize_params={"access_type": "offline", "include_granted_scopes": "true"},
        permission="studio",
        landing=_landing,
    )
)


def start_session(connection, client: ProviderClient, metadata: dict, size: int, content_type: str) -> str:
    """Open a resumable upload session; returns the session URI (save it before uploading)."""
    response = authorized_request(
        connection,
        client,
        "upload_session",
        "POST",
        api("/upload/youtube/v3/videos"),
        params={"uploadType": "resumable", "part": "snippet,status"},
        json=metadata,
        headers={"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": content_type},
        retry=False,
    )
    location = response.headers.get("Location")
    if not location:
        raise ProviderError("youtube: no upload session URI in the answer", kind="server")
    return location


def _session_request(connection, client: ProviderClient, action: str, url: str, content: bytes, content_range: str):
    return client.request(
        action,
        "PUT",
        url,
        content=content,
        headers={"Authorization": f"Bearer {access_token(connection)}", "Content-Range": content_range},
        expect=(308,),
        retry=False,
    )


def received_bytes(response: ProviderResponse) -> int:
    """From a 308 answer's ``Range: bytes=0-N`` header: how many bytes YouTube holds."""
    value = response.headers.get("Range")
    if not value:
        return 0
    return int(value.rsplit("-", 1)[1]) + 1


def put_chunk(connection, client: ProviderClient, session_url: str, data: bytes, start: int, total: int):
    """Returns ``(received_bytes, video_or_None)``."""
    end = start + len(data) - 1
    response = _session_request(connection, client, "upload_chunk", session_url, data, f"bytes {start}-{end}/{total}")
    if response.status_code == 308:
        return received_bytes(response), None
    return total, response.json()


def query_upload(connection, client: ProviderClient, session_url: str, total: int):
    """Ask what arrived: ``(received_bytes, video_or_None)``."""
    response = _session_request(connection, client, "upload_status", session_url, b"", f"bytes */{total}")
    if response.status_code == 308:
        return received_bytes(response), None
    return total, response.json()


def video_statistics(connection, client: ProviderClient, ids: list[str]) -> dict[str, dict]:
    response = authorized_request(
        connection,
        client,
        "videos_list",
        "GET",
        api("/youtube/v3/videos"),
        params={"part": "statistics", "id": ",".join(ids[:50])},
    )
    out = {}
    for item in response.json().get("items") or []:
        s = item.get("statistics") or {}
        out[item["id"]] = {
            "views": int(s.get("viewCount") or 0),
            "likes": int(s.get("likeCount") or 0),
            "comments": int(s.get("commentCount") or 0),
            "shares": 0,  # the Data API does not report shares
        }
    return out


def error_reason(error: ProviderError) -> str:
    payload = error.payload if isinstance(error.payload, dict) else {}
    errors = (payload.get("error") or {}).get("errors") if isinstance(payload.get("error"), dict) else None
    return (errors or [{}])[0].get("reason", "") if errors else ""
