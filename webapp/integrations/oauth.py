"""One OAuth2 connection framework for every provider (freee, Google Drive, TikTok, Instagram, YouTube…).

A provider is described once by an ``OAuthProvider`` and registered with ``register``; its URLs
come from configuration (``<PREFIX>_AUTHORIZE_URL`` …), defaulting to its built-in sandbox.

- ``begin_authorization(provider, org, user)`` → the URL to send the browser to (state + PKCE S256,
  the state bound to the user's server-side session and the organization, stored server-side).
- ``/oauth/<provider>/callback`` → ``complete_authorization``: checks the state, exchanges the code,
  asks the provider's ``identify`` hook which account this is, upserts the ``Connection`` with
  encrypted tokens and calls ``on_connected``.
- ``refresh_if_needed(connection)``: one refresh at a time per connection (``SELECT … FOR UPDATE``
  on its row in a separate transaction, re-checked after the lock), rotated refresh token and new
  access token saved in one commit; only ``invalid_grant`` moves it to EXPIRED.
- ``access_token(connection)`` / ``authorized_request(connection, …)`` for API calls.
- ``revoke(connection)``: revoke at the provider when it can, delete the tokens, DISCONNECTED.

The protocol itself (authorization URL with PKCE S256, code exchange, refresh, RFC 7009 revocation,
client authentication) is Authlib's OAuth 2 client. It sends through ``ProviderSession``, i.e. through
the provider client, so every token, refresh and revoke call is timed and written to the call log
like any other provider call. What stays ours: where the state lives, the row locks, the states of a
connection and the messages people read.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_qs
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.client import OAuth2Client
from flask import current_app, url_for
from flask_babel import lazy_gettext
from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column, object_session

from webapp.audit import record
from webapp.core.errors import DomainError
from webapp.core.models import BigId, utcnow
from webapp.core.transaction import own_session
from webapp.extensions import Model, db
from webapp.integrations.models import Connection
from webapp.integrations.providers.client import ProviderClient, ProviderError, ProviderResponse
from webapp.secrets import EncryptedColumns, clear_field, decrypt_field, encrypt_field, encrypted_fields, has_field

log = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=15)
REFRESH_MARGIN = timedelta(minutes=10)


# ----------------------------------------------------------------------------- errors


class OAuthError(DomainError):
    """The connection attempt ended without a connection. The message is for the person; no secrets."""

    code = "oauth_failed"
    status = 400


class OAuthStateError(OAuthError):
    code = "oauth_state_invalid"


class OAuthRefused(OAuthError):
    code = "oauth_refused"


class ConnectionUnavailable(DomainError):
    """The connection cannot be used now (disconnected, expired, or a temporary provider problem)."""

    code = "connection_unavailable"
    status = 409


class ConnectionExpired(ConnectionUnavailable):
    code = "connection_expired"


# ----------------------------------------------------------------------------- descriptors


@dataclass
class TokenSet:
    """One token response. ``extra`` keeps non-secret fields such as freee's ``company_id``."""

    access_token: str
    refresh_token: str | None
    expires_in: int | None
    refresh_expires_in: int | None
    scope: str
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:  # never print a token
        return f"<TokenSet expires_in={self.expires_in} scope={self.scope!r}>"


@dataclass
class Account:
    """Which account at the provider the tokens belong to (freee company, Google user…)."""

    id: str
    name: str | None = None
    details: dict = field(default_factory=dict)


@dataclass
class OAuthProvider:
    name: str  # "freee", "google_drive" — the URL segment in /oauth/<name>/callback
    label: str  # shown to people
    config_prefix: str  # "FREEE" → FREEE_CLIENT_ID, FREEE_CLIENT_SECRET, FREEE_AUTHORIZE_URL, …
    identify: Callable[[TokenSet, ProviderClient], Account]
    scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    pkce: bool = True
    client_auth: str = "post"  # "post": client_id/secret in the body; "basic": HTTP Basic
    client_id_param: str = "client_id"  # TikTok calls it client_key
    authorize_params: dict = field(default_factory=dict)  # e.g. {"prompt": "select_company"}
    refresh_lifetime: timedelta | None = None  # when the token response carries no refresh_expires_in
    revoke_token: str = "refresh_token"  # which token the revoke endpoint takes
    permission: str = "integrations"  # needed in the organization to connect
    sandbox_paths: dict = field(default_factory=dict)  # authorize/token/revoke/userinfo/api under /sandbox/<name>
    on_connected: Callable[[Connection], None] | None = None
    on_disconnected: Callable[[Connection], None] | None = None
    landing: Callable[[Connection], str] | None = None  # where the browser goes after connecting

    def setting(self, key: str, default: str | None = None) -> str | None:
        value = current_app.config.get(f"{self.config_prefix}_{key}")
        if value:
            return value
        path = self.sandbox_paths.get(key.lower().removesuffix("_url"))
        if path is not None:
            return f"{current_app.config['SANDBOX_URL']}/sandbox/{self.name}{path}"
        return default

    def url(self, which: str) -> str | None:
        """``which``: authorize, token, revoke, userinfo, api."""
        return self.setting(f"{which.upper()}_URL")

    @property
    def client_id(self) -> str:
        return self.setting("CLIENT_ID") or f"tessera-{self.name}"

    @property
    def client_secret(self) -> str:
        return self.setting("CLIENT_SECRET") or f"tessera-{self.name}-sandbox-secret"

    def redirect_uri(self) -> str:
        path = url_for("integrations_public.oauth_callback", provider=self.name, _external=False)
        return current_app.config["BASE_URL"] + path


PROVIDERS: dict[str, OAuthProvider] = {}


def register(provider: OAuthProvider) -> OAuthProvider:
    PROVIDERS[provider.name] = provider
    return provider


def get_provider(name: str) -> OAuthProvider:
    provider = PROVIDERS.get(name)
    if provider is None:
        raise OAuthError("That provider is not available.", code="unknown_provider")
    return provider


# ----------------------------------------------------------------------------- pending authorizations


if TYPE_CHECKING:
    _CodeVerifier = EncryptedColumns
else:
    _CodeVerifier = encrypted_fields("code_verifier")


class OAuthState(_CodeVerifier, Model):
    """A started authorization: bound to the user's server-side session and the organization, single-use."""

    __tablename__ = "oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    user_session_id: Mapped[int | None] = mapped_column(BigId)
    return_to: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    used_at: Mapped[datetime | None]


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# ----------------------------------------------------------------------------- the OAuth client


class ProviderSession:
    """The HTTP session Authlib's client talks through: the provider client.

    Authlib hands it the form fields and a client-authentication object; the request goes out through
    ``ProviderClient.request`` under ``action``, so it is logged, timed out, and retried only when
    ``retry`` says so (a code or a single-use refresh token must never be spent twice). An error status
    raises ``ProviderError`` as for any provider call, before Authlib reads the answer.
    """

    def __init__(self, client: ProviderClient, action: str, *, retry: bool = False):
        self.client = client
        self.action = action
        self.retry = retry

    def post(self, url: str, data: dict | None = None, headers: dict | None = None, auth=None, **kwargs):
        return self.request("POST", url, data=data, headers=headers, auth=auth, **kwargs)

    def request(self, method: str, url: str, data: dict | None = None, headers: dict | None = None, auth=None, **_):
        body = urlencode(list((data or {}).items()))
        headers = dict(headers or {})  # Authlib passes its module-level default headers: never write into them
        if auth is not None:
            url, headers, body = auth.prepare(method, url, headers, body)
        return self.client.request(self.action, method, url, retry=self.retry, content=body, headers=headers)


def _client_post_as(param: str):
    """Client id and secret in the form body, the id under the provider's own name (TikTok: client_key)."""

    def encode(auth, method, uri, headers, body):
        body = add_params_to_qs(body or "", [(param, auth.client_id), ("client_secret", auth.client_secret or "")])
        return uri, headers, body

    return encode


_AUTHLIB_AUTH_METHODS = ("client_secret_basic", "client_secret_post")


def _authlib_client(provider: OAuthProvider, session, redirect_uri: str | None = None) -> OAuth2Client:
    if provider.client_auth == "basic":
        method = "client_secret_basic"
    elif provider.client_id_param == "client_id":
        method = "client_secret_post"
    else:
        method = f"{provider.client_id_param}_post"
    client = OAuth2Client(
        session,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        token_endpoint_auth_method=method,
        revocation_endpoint_auth_method=method,
        redirect_uri=redirect_uri,
        code_challenge_method="S256" if provider.pkce else None,
    )
    if method not in _AUTHLIB_AUTH_METHODS:
        client.register_client_auth_method((method, _client_post_as(provider.client_id_param)))
    return client


@contextlib.contextmanager
def oauth_client(
    provider: OAuthProvider, org_id: int | None, action: str, *, retry: bool = False, redirect_uri: str | None = None
) -> Iterator[OAuth2Client]:
    """Authlib's OAuth 2 client for ``provider``, sending through the provider client under ``action``."""
    with ProviderClient(provider.name, org_id=org_id) as http:
        yield _authlib_client(provider, ProviderSession(http, action, retry=retry), redirect_uri)


def _rename_query_param(url: str, old: str, new: str) -> str:
    parts = urlsplit(url)
    query = [(new if k == old else k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def begin_authorization(provider_name: str, org, user, *, session_id: int | None = None, return_to: str | None = None):
    """The provider's authorize URL for this member; flushes the pending state (the route commits).

    ``user`` may be the Flask-Login ``current_user`` (its server-side session binds the state) or a User
    with ``session_id`` given.
    """
    provider = get_provider(provider_name)
    real_user = getattr(user, "user", user)
    if session_id is None and getattr(user, "session", None) is not None:
        session_id = user.session.id
    state = generate_token(48)
    row = OAuthState(
        state_hash=_hash(state),
        provider=provider.name,
        organization_id=org.id,
        user_id=real_user.id,
        user_session_id=session_id,
        return_to=return_to,
    )
    db.session.add(row)
    db.session.flush()
    verifier = None
    if provider.pkce:
        verifier = generate_token(64)
        encrypt_field(row, "code_verifier", verifier)
    scope = provider.scope_separator.join(provider.scopes) or None
    client = _authlib_client(provider, None, redirect_uri=provider.redirect_uri())  # building a URL sends nothing
    url, _ = client.create_authorization_url(
        provider.url("authorize"), state=state, code_verifier=verifier, scope=scope, **provider.authorize_params
    )
    if provider.client_id_param != "client_id":  # Authlib always says client_id; TikTok reads client_key
        url = _rename_query_param(url, "client_id", provider.client_id_param)
    record(real_user, "connection.authorization_started", None, {"provider": provider.name}, org=org)
    return url


def _claim_state(provider: OAuthProvider, state: str | None, user) -> OAuthState:
    """The pending state for this user's session, claimed atomically (a replay finds it used)."""
    if not state:
        raise OAuthStateError("The answer from the provider carried no state. Start connecting again.")
    row = db.session.scalar(select(OAuthState).where(OAuthState.state_hash == _hash(state)))
    session_id = user.session.id if getattr(user, "session", None) is not None else None
    real_user = getattr(user, "user", user)
    if (
        row is None
        or row.provider != provider.name
        or row.user_id != real_user.id
        or (row.user_session_id is not None and row.user_session_id != session_id)
    ):
        raise OAuthStateError("This connection attempt was not started from this browser session. Start again.")
    if row.used_at is not None:
        raise OAuthStateError("This connection link was already used. Start connecting again.")
    if utcnow() - row.created_at > STATE_LIFETIME:
        raise OAuthStateError("This connection attempt took too long and expired. Start connecting again.")
    # Claimed in its own short transaction: the token exchange that follows must not hold a write lock.
    with db.engine.begin() as conn:
        claimed = conn.execute(
            update(OAuthState.__table__)
            .where(OAuthState.__table__.c.id == row.id, OAuthState.__table__.c.used_at.is_(None))
            .values(used_at=utcnow())
        ).rowcount
    if claimed != 1:
        raise OAuthStateError("This connection link was already used. Start connecting again.")
    return row


def pending_state(provider_name: str, state: str | None) -> OAuthState | None:
    """For the problem page: where the person came from (never trusted for anything else)."""
    if not state:
        return None
    return db.session.scalar(select(OAuthState).where(OAuthState.state_hash == _hash(state)))


# ----------------------------------------------------------------------------- token endpoint


def _token_set(call: Callable[[], dict]) -> TokenSet:
    """Run one Authlib token call and read its answer; ``ProviderError`` (an error status) passes through."""
    try:
        payload = call()
    except OAuth2Error:  # a success status whose body says "error"
        raise OAuthError("The provider's token response carried no access token.") from None
    except ValueError:
        raise OAuthError("The provider answered with something that is not a token response.") from None
    if not payload.get("access_token"):
        raise OAuthError("The provider's token response carried no access token.")
    data = payload.get("data")
    body = data if isinstance(data, dict) else payload  # some wrap it
    # expires_at is Authlib's own addition (now + expires_in); the expiry is computed from expires_in below.
    not_extra = {"access_token", "refresh_token", "id_token", "expires_at"}
    extra = {k: v for k, v in body.items() if k not in not_extra and not isinstance(v, dict | list)}

    def _int(key):
        try:
            return int(body[key]) if body.get(key) is not None else None
        except (TypeError, ValueError):
            return None

    return TokenSet(
        access_token=str(body["access_token"]),
        refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
        expires_in=_int("expires_in"),
        refresh_expires_in=_int("refresh_expires_in") or _int("refresh_token_expires_in"),
        scope=str(body.get("scope") or ""),
        extra=extra,
    )


def exchange_code(provider: OAuthProvider, org_id: int, code: str, verifier: str | None) -> TokenSet:
    """The authorization code for tokens (never retried: a code is spent once)."""
    with oauth_client(provider, org_id, "oauth_connected", redirect_uri=provider.redirect_uri()) as client:
        return _token_set(
            lambda: client.fetch_token(
                provider.url("token"), grant_type="authorization_code", code=code, code_verifier=verifier
            )
        )


def refresh_tokens(provider: OAuthProvider, org_id: int, refresh_token: str) -> TokenSet:
    """A refresh-token grant (never retried: a rotating refresh token is spent once).

    When the provider sends no new refresh token, Authlib hands back the one it sent; that is no
    rotation, so the answer carries none and the stored token keeps its expiry.
    """
    with oauth_client(provider, org_id, "token_refreshed") as client:
        tokens = _token_set(lambda: client.refresh_token(provider.url("token"), refresh_token=refresh_token))
    if tokens.refresh_token == refresh_token and not tokens.refresh_expires_in:
        tokens.refresh_token = None
    return tokens


def store_tokens(connection: Connection, provider: OAuthProvider, tokens: TokenSet, now: datetime) -> None:
    """Encrypt and save one token set with its expiry times (a missing refresh token keeps the old one)."""
    encrypt_field(connection, "access_token", tokens.access_token)
    connection.token_expires_at = now + timedelta(seconds=tokens.expires_in) if tokens.expires_in else None
    if tokens.refresh_token:
        encrypt_field(connection, "refresh_token", tokens.refresh_token)
        if tokens.refresh_expires_in:
            connection.refresh_expires_at = now + timedelta(seconds=tokens.refresh_expires_in)
        elif provider.refresh_lifetime:
            connection.refresh_expires_at = now + provider.refresh_lifetime
        else:
            connection.refresh_expires_at = None
    if tokens.scope:
        connection.scopes = tokens.scope[:500]


# ----------------------------------------------------------------------------- connect


def complete_authorization(provider_name: str, args, user) -> Connection:
    """Handle the callback's query ``args``; returns the saved connection (flushed, not committed)."""
    provider = get_provider(provider_name)
    pending = _claim_state(provider, args.get("state"), user)
    org_id = pending.organization_id
    from webapp.core.access import load_membership, role_allows
    from webapp.orgs.models import Organization

    org = db.session.get(Organization, org_id)
    membership = load_membership(org.slug, pending.user_id) if org is not None else None
    if membership is None or not role_allows(membership.role, provider.permission):
        raise OAuthStateError("You can no longer connect accounts for that organization.")
    if args.get("error"):
        if args["error"] == "access_denied":
            raise OAuthRefused(f"You did not allow Tessera to use your {provider.label} account. Nothing was saved.")
        description = (args.get("error_description") or args["error"])[:200]
        raise OAuthError(f"{provider.label} refused the connection: {description}. Nothing was saved.")
    code = args.get("code")
    if not code:
        raise OAuthError(f"{provider.label} sent no authorization code. Nothing was saved.")

    verifier = decrypt_field(pending, "code_verifier") if provider.pkce else None
    try:
        tokens = exchange_code(provider, org_id, code, verifier)
        with ProviderClient(provider.name, org_id=org_id) as client:
            account = provider.identify(tokens, client)
    except ProviderError as error:
        raise OAuthError(
            f"{provider.label} did not complete the connection ({_short(error)}). Nothing was saved."
        ) from None

    real_user = getattr(user, "user", user)
    connection = db.session.scalar(
        select(Connection).where(
            Connection.organization_id == org_id,
            Connection.provider == provider.name,
            Connection.account_id == str(account.id),
        )
    )
    now = utcnow()
    if connection is None:
        connection = Connection(organization_id=org_id, provider=provider.name, account_id=str(account.id))
        db.session.add(connection)
        db.session.flush()
    connection.created_by_id = real_user.id
    connection.account_name = (account.name or "")[:255] or None
    connection.status = Connection.CONNECTED
    connection.connected_at = now
    connection.disconnected_at = None
    connection.last_error = None
    connection.last_error_at = None
    connection.last_refreshed_at = now
    for key, value in account.details.items():
        connection.set_detail(key, value)
    store_tokens(connection, provider, tokens, now)
    db.session.flush()
    record(
        real_user,
        "connection.connected",
        connection,
        {"provider": provider.name, "account_id": connection.account_id, "account_name": connection.account_name},
    )
    if provider.on_connected:
        provider.on_connected(connection)
    return connection


def landing_url(connection: Connection) -> str:
    provider = get_provider(connection.provider)
    if provider.landing:
        return provider.landing(connection)
    return url_for("integrations.index", slug=connection.organization.slug, _external=False)


def _short(error: Exception) -> str:
    return str(error)[:200]


# ----------------------------------------------------------------------------- refresh

_local_locks: dict[int, threading.Lock] = {}
_local_locks_guard = threading.Lock()


def _local_lock(connection_id: int):
    """SQLite has no row locks: threads of one process serialize here. On PostgreSQL the row lock
    (SELECT … FOR UPDATE) alone serializes every worker of every process."""
    if db.engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    with _local_locks_guard:
        return _local_locks.setdefault(connection_id, threading.Lock())


def _reload(connection: Connection) -> None:
    """The caller's copy reads the committed tokens on next access (whatever session holds it)."""
    session = object_session(connection)
    if session is not None:
        session.expire(connection)


def needs_refresh(connection: Connection, margin: timedelta = REFRESH_MARGIN) -> bool:
    return connection.token_expires_at is not None and connection.token_expires_at <= utcnow() + margin


def refresh_if_needed(connection: Connection, *, margin: timedelta = REFRESH_MARGIN, force: bool = False) -> bool:
    """Refresh the tokens when they expire within ``margin`` (or ``force``: the provider said 401).

    Runs in its own transaction under a per-connection lock and re-checks after taking it, so a
    single-use refresh token is spent once even with many workers; the rotated refresh token and
    the new access token are committed together. Returns True when this call refreshed.
    Raises ``ConnectionExpired`` on ``invalid_grant`` and ``ConnectionUnavailable`` for a temporary
    failure (left CONNECTED with ``last_error``). The caller must hold no uncommitted change to the row.
    """
    if not force and not needs_refresh(connection, margin):
        return False
    seen_refresh = connection.last_refreshed_at
    provider = get_provider(connection.provider)
    refreshed = False
    expired_message = None
    with (
        _local_lock(connection.id),
        own_session(
            "the refreshed tokens are stored whatever the request does (the provider rotated them)",
            expire_on_commit=False,
        ) as session,
    ):
        row = session.get(Connection, connection.id, with_for_update=True, populate_existing=True)
        if row is None or row.status != Connection.CONNECTED:
            session.rollback()
            _reload(connection)
            raise ConnectionUnavailable(f"The {provider.label} connection is not connected.")
        someone_else_refreshed = row.last_refreshed_at != seen_refresh
        if (force and someone_else_refreshed) or (not force and not needs_refresh(row, margin)):
            session.rollback()  # another worker refreshed while we waited for the lock
            _reload(connection)
            return False
        refresh_token = decrypt_field(row, "refresh_token")
        if not refresh_token:
            row.status = Connection.EXPIRED
            row.last_error = "No refresh token is stored; connect again."
            row.last_error_at = utcnow()
            expired_message = row.last_error
            session.commit()
        else:
            try:
                tokens = refresh_tokens(provider, row.organization_id, refresh_token)
            except (ProviderError, OAuthError) as error:
                row.last_error = f"Token refresh failed: {_short(error)}"
                row.last_error_at = utcnow()
                if _is_invalid_grant(error):
                    row.status = Connection.EXPIRED
                    expired_message = row.last_error
                session.commit()
                if expired_message is None:
                    _reload(connection)
                    raise ConnectionUnavailable(
                        f"{provider.label} could not refresh the connection just now; it will be retried."
                    ) from None
            else:
                now = utcnow()
                store_tokens(row, provider, tokens, now)
                row.last_refreshed_at = now
                row.last_error = None
                row.last_error_at = None
                session.commit()
                refreshed = True
    _reload(connection)
    if expired_message is not None:
        _on_expired(connection, expired_message)
        raise ConnectionExpired(f"The {provider.label} connection has expired. Connect it again.")
    return refreshed


def _is_invalid_grant(error: Exception) -> bool:
    payload = getattr(error, "payload", None)
    if isinstance(payload, dict):
        if payload.get("error") == "invalid_grant":
            return True
        data = payload.get("data")
        if isinstance(data, dict) and data.get("error") == "invalid_grant":
            return True
    return False


def _on_expired(connection: Connection, reason: str) -> None:
    """Tell the organization's owners and the rest of Tessera, in the caller's transaction."""
    from webapp.core.events import emit
    from webapp.mail import send_email
    from webapp.orgs.models import Membership

    provider = get_provider(connection.provider)
    record(None, "connection.expired", connection, {"provider": connection.provider, "reason": reason[:300]})
    emit("connection.expired", org=connection.organization_id, connection_id=connection.id, provider=provider.name)
    owners = db.session.scalars(
        select(Membership).where(
            Membership.organization_id == connection.organization_id, Membership.role.in_(("OWNER", "ADMIN"))
        )
    )
    org = connection.organization
    landing = landing_url(connection)
    link = landing if landing.startswith("http") else current_app.config["BASE_URL"] + landing
    for membership in owners:
        send_email(
            membership.user.email,
            "integrations/connection_expired",
            about=connection,
            subject=lazy_gettext("Your %(provider)s connection needs to be renewed", provider=provider.label),
            org=org,
            user=membership.user,
            provider_label=provider.label,
            account_name=connection.account_name or connection.account_id,
            org_name=org.name,
            link=link,
        )


def access_token(connection: Connection) -> str:
    """A usable access token, refreshed first when it is about to expire."""
    if connection.status != Connection.CONNECTED:
        raise ConnectionUnavailable(f"The {get_provider(connection.provider).label} connection is not connected.")
    refresh_if_needed(connection)
    token = decrypt_field(connection, "access_token")
    if not token:
        raise ConnectionUnavailable("No access token is stored; connect again.")
    return token


def authorized_request(
    connection: Connection, client: ProviderClient, action: str, method: str, url: str, **kwargs
) -> ProviderResponse:
    """A provider API call with the connection's bearer token; one refresh-and-retry on 401."""
    headers = dict(kwargs.pop("headers", None) or {})
    for attempt in (1, 2):
        headers["Authorization"] = f"Bearer {access_token(connection)}"
        try:
            return client.request(action, method, url, headers=headers, **kwargs)
        except ProviderError as error:
            if error.status_code == 401 and attempt == 1:
                refresh_if_needed(connection, force=True)
                continue
            raise
    raise AssertionError("unreachable")


# ----------------------------------------------------------------------------- disconnect


def revoke(connection: Connection, actor) -> bool:
    """Revoke at the provider (when it offers it), then delete the tokens; DISCONNECTED keeps the row.

    Returns whether the provider confirmed the revocation. Flushes; the caller commits.
    """
    provider = get_provider(connection.provider)
    revoked = False
    url = provider.url("revoke")
    token_name = provider.revoke_token if has_field(connection, "refresh_token") else "access_token"
    token = decrypt_field(connection, token_name) if connection.status != Connection.DISCONNECTED else None
    if url and token:
        try:
            # Safe to repeat: revoking a revoked token changes nothing.
            with oauth_client(provider, connection.organization_id, "oauth_revoked", retry=True) as client:
                client.revoke_token(url, token=token, token_type_hint=token_name)
            revoked = True
        except ProviderError as error:
            log.warning("revocation at %s failed: %s", provider.name, error.kind)
    clear_field(connection, "access_token")
    clear_field(connection, "refresh_token")
    connection.status = Connection.DISCONNECTED
    connection.disconnected_at = utcnow()
    connection.token_expires_at = None
    connection.refresh_expires_at = None
    connection.sync_frequency = "off"
    db.session.flush()
    record(actor, "connection.disconnected", connection, {"provider": provider.name, "revoked_at_provider": revoked})
    if provider.on_disconnected:
        provider.on_disconnected(connection)
    return revoked


def connections_due_for_refresh(margin: timedelta = timedelta(hours=1)) -> list[int]:
    stmt = select(Connection.id).where(
        Connection.status == Connection.CONNECTED,
        Connection.token_expires_at.is_not(None),
        Connection.token_expires_at <= utcnow() + margin,
    )
    return list(db.session.scalars(stmt))
