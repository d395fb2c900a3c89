"""The OAuth2 server half shared by the freee and Google Drive sandboxes.

Authorization code with PKCE (S256 checked when a challenge was sent), expiring access tokens,
single-use rotating refresh tokens (reusing one answers ``invalid_grant``; a refresh invalidates the
grant's previous access tokens, as freee does), revocation, and faults on demand.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from flask import abort, jsonify, render_template, request
from flask import redirect as flask_redirect
from sqlalchemy import select, update

from webapp.core.models import rowcount, utcnow
from webapp.extensions import db


def relative_path() -> str:
    """The request path below ``/sandbox/<provider>``, which is what faults match."""
    parts = request.path.split("/")
    return "/" + "/".join(parts[3:])


def token_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def oauth_error(error: str, description: str, status: int = 400):
    return jsonify({"error": error, "error_description": description}), status


class SandboxOAuth:
    def __init__(
        self,
        *,
        token_model,
        fault_model,
        client_id: str,
        client_secret: str,
        access_ttl: int,
        refresh_ttl: int,
        code_ttl: int = 600,
        token_extras=None,
        client_id_param: str = "client_id",
    ):
        self.Token = token_model
        self.Fault = fault_model
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.code_ttl = code_ttl
        self.token_extras: Callable[[Any], dict] = token_extras or (lambda account: {})
        self.client_id_param = client_id_param

    # ------------------------------------------------------------------ faults

    def take_fault(self, path: str):
        """The response of a fault set for this path, or None. Each fault answers ``times`` requests."""
        for fault in db.session.scalars(select(self.Fault).order_by(self.Fault.id)):
            if not path.startswith(fault.path) or fault.times <= 0:
                continue
            fault.times -= 1
            status, retry_after = fault.status, fault.retry_after
            if fault.times <= 0:
                db.session.delete(fault)
            db.session.commit()
            return status, retry_after
        return None

    def add_fault(self, path: str, status: int, times: int = 1, retry_after: int | None = None) -> None:
        db.session.add(self.Fault(path=path, status=status, times=times, retry_after=retry_after))
        db.session.commit()

    def clear_faults(self) -> None:
        db.session.execute(self.Fault.__table__.delete())
        db.session.commit()

    # ------------------------------------------------------------------ issuing

    def _issue(self, kind: str, grant: str, account: str, scope: str, ttl: int, **extra) -> str:
        value = f"sbx_{kind[0]}_" + secrets.token_urlsafe(32)
        db.session.add(
            self.Token(
                kind=kind,
                token_hash=token_hash(value),
                grant=grant,
                client_id=self.client_id,
                account=account,
                scope=scope,
                expires_at=utcnow() + timedelta(seconds=ttl),
                **extra,
            )
        )
        return value

    def consent_params(self):
        """Validate the authorize request; a bad client or redirect URI is shown, never redirected."""
        args = request.values
        if args.get(self.client_id_param) != self.client_id:
            abort(400, description="Unknown client_id.")
        redirect_uri = args.get("redirect_uri") or ""
        if not redirect_uri.startswith(("http://", "https://")) or "/oauth/" not in redirect_uri:
            abort(400, description="redirect_uri is not registered for this client.")
        if args.get("response_type") != "code":
            abort(400, description="response_type must be code.")
        method = args.get("code_challenge_method")
        if args.get("code_challenge") and method != "S256":
            abort(400, description="Only code_challenge_method=S256 is supported.")
        return args

    def answer_consent(self, account: str | None):
        """POST of the consent page: redirect back with a code, or with error=access_denied."""
        args = self.consent_params()
        redirect_uri, state = args["redirect_uri"], args.get("state", "")
        if request.form.get("decision") != "allow" or not account:
            query = {"error": "access_denied", "error_description": "The user denied access", "state": state}
            return flask_redirect(f"{redirect_uri}?{urlencode(query)}", code=302)
        grant = secrets.token_hex(8)
        code = self._issue(
            "code",
            grant,
            account,
            args.get("scope", ""),
            self.code_ttl,
            redirect_uri=redirect_uri,
            code_challenge=args.get("code_challenge"),
        )
        db.session.commit()
        return flask_redirect(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", code=302)

    def render_consent(self, template: str, **context):
        args = self.consent_params()
        return render_template(template, args=args, **context)

    # ------------------------------------------------------------------ token endpoint

    def _client_ok(self) -> bool:
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            return auth.username == self.client_id and auth.password == self.client_secret
        form = request.form
        return form.get(self.client_id_param) == self.client_id and form.get("client_secret") == self.client_secret

    def _find(self, kind: str, value: str | None):
        if not value:
            return None
        return db.session.scalar(
            select(self.Token).where(self.Token.token_hash == token_hash(value), self.Token.kind == kind)
        )

    def token_endpoint(self):
        fault = self.take_fault(relative_path())
        if fault:
            return self.fault_response(*fault)
        if not self._client_ok():
            return oauth_error("invalid_client", "Client authentication failed", 401)
        grant_type = request.form.get("grant_type")
        now = utcnow()
        if grant_type == "authorization_code":
            code = self._find("code", request.form.get("code"))
            if code is None or code.used_at is not None or code.expires_at <= now or code.revoked_at:
                return oauth_error("invalid_grant", "The authorization code is invalid or was already used")
            if code.redirect_uri != request.form.get("redirect_uri"):
                return oauth_error("invalid_grant", "redirect_uri does not match the authorization request")
            if code.code_challenge:
                verifier = request.form.get("code_verifier") or ""
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if digest != code.code_challenge:
                    return oauth_error("invalid_grant", "PKCE verification failed")
            claimed = rowcount(
                db.session.execute(
                    update(self.Token).where(self.Token.id == code.id, self.Token.used_at.is_(None)).values(used_at=now)
                )
            )
            if claimed != 1:
                db.session.rollback()
                return oauth_error("invalid_grant", "The authorization code was already used")
            return self._token_response(code.grant, code.account, code.scope)
        if grant_type == "refresh_token":
            old = self._find("refresh", request.form.get("refresh_token"))
            if old is None or old.revoked_at or old.expires_at <= now:
                return oauth_error("invalid_grant", "The refresh token is invalid or expired")
            # Single use, atomically: of two racing refreshes with the same token only one wins.
            claimed = rowcount(
                db.session.execute(
                    update(self.Token).where(self.Token.id == old.id, self.Token.used_at.is_(None)).values(used_at=now)
                )
            )
            if claimed != 1:
                db.session.rollback()
                return oauth_error("invalid_grant", "The refresh token was already used")
            db.session.execute(
                update(self.Token)
                .where(self.Token.grant == old.grant, self.Token.kind == "access", self.Token.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            return self._token_response(old.grant, old.account, old.scope)
        return oauth_error("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")

    def _token_response(self, grant: str, account: str, scope: str):
        access = self._issue("access", grant, account, scope, self.access_ttl)
        refresh = self._issue("refresh", grant, account, scope, self.refresh_ttl)
        db.session.commit()
        body = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.access_ttl,
            "refresh_token": refresh,
            "scope": scope,
            "created_at": int(utcnow().timestamp()),
            **self.token_extras(account),
        }
        response = jsonify(body)
        response.headers["Cache-Control"] = "no-store"
        return response

    def revoke_endpoint(self):
        if not self._client_ok() and not request.form.get("token"):
            return oauth_error("invalid_client", "Client authentication failed", 401)
        value = request.form.get("token") or request.args.get("token")
        row = self._find("refresh", value) or self._find("access", value)
        if row is not None:
            db.session.execute(
                update(self.Token)
                .where(self.Token.grant == row.grant, self.Token.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            db.session.commit()
        return jsonify({}), 200

    def bearer(self):
        """The access-token row of this request, or None (expired, revoked, unknown)."""
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            return None
        row = self._find("access", header[7:].strip())
        if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
            return None
        return row

    def is_revoked_grant(self, grant: str) -> bool:
        return (
            db.session.scalar(
                select(self.Token.id).where(self.Token.grant == grant, self.Token.revoked_at.is_not(None)).limit(1)
            )
            is not None
        )

    def fault_response(self, status: int, retry_after: int | None):
        body: dict[str, Any] = {
            "status_code": status,
            "errors": [{"type": "status", "messages": [f"Sandbox fault {status}"]}],
        }
        if status == 429:
            body["errors"][0]["messages"] = ["Too many requests. Retry later."]
        if status == 403:
            body["errors"][0]["messages"] = ["Access is restricted for about 10 minutes because of excessive access."]
        response = jsonify(body)
        response.status_code = status
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        if status == 429:
            response.headers["X-RateLimit-Limit"] = "300"
            response.headers["X-RateLimit-Remaining"] = "0"
            response.headers["X-RateLimit-Reset"] = str(int(utcnow().timestamp()) + (retry_after or 1))
        return response
