"""Google Drive: the OAuth descriptor and the Drive v3 calls (about, files.list, changes)."""

from __future__ import annotations

from webapp.integrations import oauth
from webapp.integrations.models import Connection
from webapp.integrations.providers.client import ProviderClient

FILE_FIELDS = "id,name,mimeType,size,webViewLink,thumbnailLink,createdTime,modifiedTime,parents,trashed"
PAGE_SIZE = 100


def _identify(tokens: oauth.TokenSet, client: ProviderClient) -> oauth.Account:
    response = client.request(
        "about_read",
        "GET",
        f"{GOOGLE_DRIVE.url('api')}/about",
        headers={"Authorization": f"Bearer {tokens.access_token}"},
        params={"fields": "user,storageQuota"},
    )
    body = response.json() or {}
    user = body.get("user") or {}
    email = user.get("emailAddress")
    if not email:
        raise oauth.OAuthError("Google did not say which account this is.")
    return oauth.Account(id=email, name=user.get("displayName") or email, details=quota_details(body))


def quota_details(about: dict) -> dict:
    quota = about.get("storageQuota") or {}

    def _int(key):
        try:
            return int(quota[key]) if quota.get(key) is not None else None
        except (TypeError, ValueError):
            return None

    return {"quota_total": _int("limit"), "quota_used": _int("usage"), "quota_used_in_drive": _int("usageInDrive")}


GOOGLE_DRIVE = oauth.register(
    oauth.OAuthProvider(
        name="google_drive",
        label="Google Drive",
        config_prefix="GOOGLE",
        identify=_identify,
        scopes=("https://www.googleapis.com/auth/drive.metadata.readonly", "openid", "email"),
        pkce=True,
        client_auth="post",
        authorize_params={"access_type": "offline", "prompt": "consent", "include_granted_scopes": "true"},
        revoke_token="refresh_token",
        sandbox_paths={
            "authorize": "/o/oauth2/v2/auth",
            "token": "/token",
            "revoke": "/revoke",
            "api": "/drive/v3",
        },
    )
)


class DriveAPI:
    def __init__(self, connection: Connection, client: ProviderClient | None = None):
        self.connection = connection
        self.client = client or ProviderClient("google_drive", org_id=connection.organization_id)
        self.base = GOOGLE_DRIVE.url("api")

    def close(self) -> None:
        self.client.close()

    def _get(self, action: str, path: str, params: dict) -> dict:
        response = oauth.authorized_request(
            self.connection, self.client, action, "GET", self.base + path, params=params
        )
        return response.json() or {}

    def about(self) -> dict:
        return self._get("about_read", "/about", {"fields": "user,storageQuota"})

    def files(self, page_token: str | None) -> dict:
        params = {"pageSize": PAGE_SIZE, "fields": f"nextPageToken,files({FILE_FIELDS})", "q": "trashed = false"}
        if page_token:
            params["pageToken"] = page_token
        return self._get("files_listed", "/files", params)

    def download(self, file_id: str) -> bytes:
        """A file's content (``alt=media``), for document analysis."""
        from urllib.parse import quote

        response = oauth.authorized_request(
            self.connection,
            self.client,
            "file_downloaded",
            "GET",
            f"{self.base}/files/{quote(file_id, safe='')}",
            params={"alt": "media"},
        )
        return response.content

    def start_page_token(self) -> str:
        return str(self._get("changes_start_token_read", "/changes/startPageToken", {}).get("startPageToken"))

    def changes(self, page_token: str) -> dict:
        params = {
            "pageToken": page_token,
            "pageSize": PAGE_SIZE,
            "fields": f"nextPageToken,newStartPageToken,changes(fileId,removed,time,file({FILE_FIELDS}))",
        }
        return self._get("changes_listed", "/changes", params)
