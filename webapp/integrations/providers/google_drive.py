"""Google Drive: the OAuth descriptor and the Drive v3 calls (about, files.list / get / update, changes)."""

from __future__ import annotations

from urllib.parse import quote

from webapp.integrations import oauth
from webapp.integrations.models import Connection
from webapp.integrations.providers.client import ProviderClient, ProviderError

FILE_FIELDS = (
    "id,name,mimeType,size,webViewLink,webContentLink,thumbnailLink,createdTime,modifiedTime,parents,trashed,"
    "shared,permissions(type,role),capabilities(canEdit,canShare,canTrash,canDownload)"
)
FOLDER = "application/vnd.google-apps.folder"
PAGE_SIZE = 100


def literal(value: str) -> str:
    """A string literal of Drive's ``q`` language: single-quoted, with ``\\`` and ``'`` escaped, so an id
    or a name can never close the literal and add a clause of its own."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


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
        # drive (not drive.metadata.readonly): content is cached for tasks and "delete" moves files to the trash.
        scopes=("https://www.googleapis.com/auth/drive", "openid", "email"),
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
        base = GOOGLE_DRIVE.url("api")
        if base is None:  # the sandbox's address when nothing is configured: never, unless the settings say nothing
            raise ProviderError("Google Drive's API address is not configured", kind="client")
        self.base = base

    def close(self) -> None:
        self.client.close()

    def _get(self, action: str, path: str, params: dict) -> dict:
        response = oauth.authorized_request(
            self.connection, self.client, action, "GET", self.base + path, params=params
        )
        return response.json() or {}

    def about(self) -> dict:
        return self._get("about_read", "/about", {"fields": "user,storageQuota"})

    def files(self, page_token: str | None, q: str = "trashed = false", action: str = "files_listed") -> dict:
        params = {"pageSize": PAGE_SIZE, "fields": f"nextPageToken,files({FILE_FIELDS})", "q": q}
        if page_token:
            params["pageToken"] = page_token
        return self._get(action, "/files", params)

    def children(self, folder_id: str, page_token: str | None = None) -> dict:
        """One page of what a folder holds (files and folders), not in the trash."""
        return self.files(page_token, f"{literal(folder_id)} in parents and trashed = false")

    def folders(self, parent_id: str = "root", page_token: str | None = None) -> dict:
        """One page of the folders directly inside ``parent_id`` ("root": the top of My Drive)."""
        q = f"mimeType = {literal(FOLDER)} and {literal(parent_id)} in parents and trashed = false"
        return self.files(page_token, q, action="folders_listed")

    def _file_url(self, file_id: str) -> str:
        return f"{self.base}/files/{quote(str(file_id), safe='')}"

    def get(self, file_id: str) -> dict:
        """``files.get``: one file's metadata (ProviderError with status 404 when Drive has no such file)."""
        response = oauth.authorized_request(
            self.connection, self.client, "file_read", "GET", self._file_url(file_id), params={"fields": FILE_FIELDS}
        )
        return response.json() or {}

    def download(self, file_id: str) -> bytes:
        """``files.get?alt=media``: the file's bytes (Google Docs have none: 403 fileNotDownloadable)."""
        response = oauth.authorized_request(
            self.connection, self.client, "file_downloaded", "GET", self._file_url(file_id), params={"alt": "media"}
        )
        return response.content

    def trash(self, file_id: str) -> dict:
        """``files.update`` with ``trashed: true``: to the Drive trash (restorable there), not deleted for good."""
        response = oauth.authorized_request(
            self.connection,
            self.client,
            "file_trashed",
            "PATCH",
            self._file_url(file_id),
            params={"fields": FILE_FIELDS},
            json={"trashed": True},
        )
        return response.json() or {}

    def start_page_token(self) -> str:
        return str(self._get("changes_start_token_read", "/changes/startPageToken", {}).get("startPageToken"))

    def changes(self, page_token: str) -> dict:
        params = {
            "pageToken": page_token,
            "pageSize": PAGE_SIZE,
            "fields": f"nextPageToken,newStartPageToken,changes(fileId,removed,time,file({FILE_FIELDS}))",
        }
        return self._get("changes_listed", "/changes", params)
