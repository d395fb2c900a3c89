"""Accounts: sign-up, verification, password login, sessions, reset, TOTP second factor and recovery codes."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, url_for
from flask_babel import gettext, lazy_gettext
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload

from webapp.audit import record
from webapp.auth.models import AuthToken, RecoveryCode, SessionUser, User, UserSession, hash_token
from webapp.core.errors import DomainError
from webapp.core.events import emit
from webapp.core.models import rowcount, utcnow
from webapp.core.terms import N_
from webapp.extensions import db
from webapp.mail import send_email
from webapp.secrets import clear_field, decrypt_field, encrypt_field, has_field

VERIFY, RESET = "verify_email", "reset_password"
TOKEN_LIFETIMES = {VERIFY: timedelta(days=2), RESET: timedelta(hours=1)}
MIN_PASSWORD = 10
LAST_SEEN_RESOLUTION = timedelta(minutes=5)
RECOVERY_CODE_COUNT = 10
# Failed sign-ins within an hour after which the owner gets one e-mail (again only after a quiet hour).
FAILURE_NOTICE_THRESHOLD = 5
FAILURE_NOTICE_WINDOW = timedelta(hours=1)

_hasher = PasswordHasher()
# Verified against when the address has no account, so both answers take the same time.
_UNKNOWN_USER_HASH = _hasher.hash("no account has this password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password_strength(password: str, email: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise DomainError(gettext("Use at least %(n)s characters.", n=MIN_PASSWORD), field="password")
    if email and password.lower() == email.lower():
        raise DomainError(gettext("The password cannot be your e-mail address."), field="password")


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


# A new account's personal workspace is the organizations domain's to create: its ``init_app`` hands
# ``create_personal_organization`` over, so accounts import nothing of organizations.
_personal_workspace: Callable[[User], Any] | None = None


def create_workspaces_with(create: Callable[[User], Any]) -> None:
    global _personal_workspace
    _personal_workspace = create


def sign_up(email: str, password: str, name: str = "") -> User:
    if _personal_workspace is None:
        raise RuntimeError("no organizations domain to create the personal workspace")
    email = email.strip().lower()
    if find_user_by_email(email):
        raise DomainError(gettext("An account with this e-mail already exists. Log in instead."), field="email")
    check_password_strength(password, email)
    user = User(email=email, name=name.strip(), password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    personal = _personal_workspace(user)
    record(user, "user.signed_up", user)
    emit("user.signed_up", org=personal, actor=user, user_id=user.id)
    send_verification(user)
    return user


def end_outstanding_tokens(user: User, purpose: str, *, except_id: int | None = None) -> int:
    """Every other unused link of this kind for this user stops working (an older reset link, a
    verification link sent before the last one)."""
    stmt = update(AuthToken).where(
        AuthToken.user_id == user.id, AuthToken.purpose == purpose, AuthToken.used_at.is_(None)
    )
    if except_id is not None:
        stmt = stmt.where(AuthToken.id != except_id)
    return rowcount(db.session.execute(stmt.values(used_at=utcnow()), execution_options={"synchronize_session": False}))


def issue_token(user: User, purpose: str) -> str:
    """A new link token; the links of this kind issued before it end now."""
    end_outstanding_tokens(user, purpose)
    token = secrets.token_urlsafe(32)
    db.session.add(
        AuthToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            expires_at=utcnow() + TOKEN_LIFETIMES[purpose],
        )
    )
    return token


def _usable_token(token: str, purpose: str, *, lock: bool = False) -> AuthToken:
    stmt = select(AuthToken).where(AuthToken.token_hash == hash_token(token), AuthToken.purpose == purpose)
    row = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None or row.used_at is not None:
        raise DomainError(gettext("This link is not valid or was already used."), code="token_invalid")
    if row.expires_at <= utcnow():
        raise DomainError(gettext("This link has expired. Ask for a new one."), code="token_expired")
    return row


def check_token(token: str, purpose: str) -> User:
    """Whether a link still works, without using it up (to show the form or the problem)."""
    return _usable_token(token, purpose).user


def consume_token(token: str, purpose: str) -> User:
    row = _usable_token(token, purpose, lock=True)
    row.used_at = utcnow()
    end_outstanding_tokens(row.user, purpose, except_id=row.id)
    return row.user


def send_verification(user: User) -> None:
    token = issue_token(user, VERIFY)
    link = current_app.config["BASE_URL"] + url_for("auth.verify_email", token=token)
    send_email(
        user.email,
        "auth/verify",
        subject=lazy_gettext("Confirm your e-mail address"),
        user=user,
        link=link,
        name=user.display_name,
    )


def resend_verification(user: User) -> None:
    if user.is_verified:
        return
    send_verification(user)
    record(user, "user.verification_resent", user)


def verify_email(token: str) -> User:
    user = consume_token(token, VERIFY)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        record(user, "user.email_verified", user)
    return user


INVALID_CREDENTIALS = N_("E-mail or password is not right.")


def authenticate(email: str, password: str, ip: str | None = None) -> User | None:
    """The password step. A wrong password answers ``None`` having recorded the failure (which the
    caller commits, so the audit entry and the owner's notice survive); a suspended account refuses."""
    user = find_user_by_email(email)
    if user is None:
        with suppress(VerificationError, InvalidHashError):
            _hasher.verify(_UNKNOWN_USER_HASH, password)
    if user is None or not password_matches(user, password):
        if user is not None:
            login_failed(user, ip, step="password")
        return None
    if user.is_suspended:
        raise DomainError(gettext("This account is suspended. Contact support."), code="account_suspended")
    return user


def login_failed(user: User, ip: str | None, *, step: str) -> None:
    """Audit a failed attempt; at the threshold within the window, tell the owner once by e-mail."""
    from webapp.audit.models import AuditEntry

    record(user, "user.login_failed", user, {"step": step, "ip": ip})
    db.session.flush()
    since = utcnow() - FAILURE_NOTICE_WINDOW
    failures = db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.entity_type == "user",
            AuditEntry.entity_id == user.id,
            AuditEntry.action == "user.login_failed",
            AuditEntry.created_at >= since,
        )
    )
    if failures == FAILURE_NOTICE_THRESHOLD:
        send_email(
            user.email,
            "auth/login_failures",
            subject=lazy_gettext("Failed sign-in attempts on your Tessera account"),
            user=user,
            name=user.display_name,
            failures=failures,
            ip=ip or lazy_gettext("an unknown address"),
            reset_link=current_app.config["BASE_URL"] + url_for("auth.request_reset"),
        )
        record(user, "user.login_failures_notified", user, {"failures": failures})


def start_session(user: User, ip: str | None, user_agent: str | None) -> SessionUser:
    token = secrets.token_urlsafe(32)
    session = UserSession(
        user_id=user.id,
        token_hash=hash_token(token),
        ip_address=ip,
        user_agent=(user_agent or "")[:500],
        expires_at=utcnow() + timedelta(days=current_app.config["SESSION_LIFETIME_DAYS"]),
    )
    db.session.add(session)
    user.last_login_at = utcnow()
    db.session.flush()
    record(user, "user.logged_in", user, {"session_id": session.id})
    return SessionUser(user, session, token)


def load_session(token: str) -> SessionUser | None:
    """Flask-Login's loader: a revoked, expired or suspended session is no session at all."""
    session = db.session.scalar(
        select(UserSession).options(joinedload(UserSession.user)).where(UserSession.token_hash == hash_token(token))
    )
    if session is None or not session.is_active or session.user.is_suspended:
        return None
    now = utcnow()
    if now - session.last_seen_at > LAST_SEEN_RESOLUTION:  # a write every few minutes, not per request
        from webapp.core.transaction import side_write

        with side_write("a signed-in session's last-seen stamp") as connection:
            connection.execute(update(UserSession).where(UserSession.id == session.id).values(last_seen_at=now))
    return SessionUser(session.user, session, token)


def end_session(session: UserSession) -> None:
    session.revoked_at = session.revoked_at or utcnow()


def log_out(user: User, session: UserSession) -> None:
    end_session(session)
    record(user, "user.logged_out", user, {"session_id": session.id})


def revoke_other_sessions(user: User, keep_session_id: int | None = None) -> int:
    """Every other browser signed in to this account is logged out on its next request."""
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep_session_id is not None:
        stmt = stmt.where(UserSession.id != keep_session_id)
    return rowcount(db.session.execute(stmt.values(revoked_at=utcnow())))


def revoke_session(user: User, session_id: int) -> UserSession:
    session = db.session.scalar(select(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id))
    if session is None:
        raise DomainError("That session does not exist.", code="not_found")
    end_session(session)
    record(user, "session.revoked", session)
    return session


def active_sessions(user: User) -> list[UserSession]:
    stmt = (
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > utcnow(),
        )
        .order_by(UserSession.last_seen_at.desc())
    )
    return list(db.session.scalars(stmt))


def request_password_reset(email: str) -> None:
    """Always looks the same from outside, whether or not the address has an account."""
    user = find_user_by_email(email)
    if user is None or user.is_suspended:
        return
    token = issue_token(user, RESET)
    link = current_app.config["BASE_URL"] + url_for("auth.reset_password", token=token)
    send_email(
        user.email,
        "auth/reset",
        subject=lazy_gettext("Reset your password"),
        user=user,
        link=link,
        name=user.display_name,
    )
    record(user, "user.password_reset_requested", user)


def reset_password(token: str, password: str) -> User:
    """A new password from the e-mailed link; every signed-in browser is logged out."""
    check_password_strength(password, check_token(token, RESET).email)
    user = consume_token(token, RESET)
    user.password_hash = hash_password(password)
    user.email_verified_at = user.email_verified_at or utcnow()  # the link proved the address
    revoked = revoke_other_sessions(user)
    record(user, "user.password_reset", user, {"sessions_revoked": revoked})
    return user


def change_password(user: User, current: str, new: str, keep_session_id: int | None = None) -> None:
    """Other browsers are logged out; the one that changed the password stays signed in."""
    if not password_matches(user, current):
        raise DomainError("The current password is not right.", field="current_password")
    check_password_strength(new, user.email)
    user.password_hash = hash_password(new)
    revoked = revoke_other_sessions(user, keep_session_id)
    record(user, "user.password_changed", user, {"sessions_revoked": revoked})


def update_profile(user: User, name: str, locale: str | None = None) -> None:
    """Name and language; an unknown language is refused (the form offers only ours)."""
    from webapp.core.i18n import LANGUAGES

    if locale is not None and locale not in LANGUAGES:
        raise DomainError("Choose one of the languages offered.")
    user.name = name.strip()[:120]
    user.locale = locale
    record(user, "user.profile_updated", user)


# TOTP second factor --------------------------------------------------------------------------


def begin_totp(user: User) -> str:
    """A new secret, stored encrypted but not yet enabled until a code proves the app has it."""
    secret = pyotp.random_base32()
    encrypt_field(user, "totp_secret", secret)
    user.totp_enabled_at = None
    record(user, "user.totp_setup_started", user)
    return secret


def totp_uri(user: User) -> str | None:
    secret = decrypt_field(user, "totp_secret")
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Tessera") if secret else None


def totp_code_valid(user: User, code: str) -> bool:
    secret = decrypt_field(user, "totp_secret")
    if not secret:
        return False
    return pyotp.TOTP(secret).verify((code or "").replace(" ", ""), valid_window=1)


def check_second_factor(user: User, code: str, ip: str | None = None) -> bool:
    """The code step of a login: a code from the app, or one unused recovery code (used up now).
    A wrong code is a failed attempt like a wrong password (recorded, ``False``)."""
    if totp_code_valid(user, code):
        return True
    if use_recovery_code(user, code):
        return True
    login_failed(user, ip, step="totp")
    return False


def _normalize_recovery_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isascii() and ch.isalnum())


def generate_recovery_codes(user: User, actor: User | None = None) -> list[str]:
    """Ten new one-time codes, shown once; the earlier ones stop working. Only their hashes are kept."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = base64.b32encode(secrets.token_bytes(10)).decode()  # 80 bits, 16 characters
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)).lower())
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hash_token(_normalize_recovery_code(raw))))
    record(actor or user, "user.recovery_codes_generated", user, {"count": RECOVERY_CODE_COUNT})
    return codes


def regenerate_recovery_codes(user: User, password: str) -> list[str]:
    if not user.totp_enabled:
        raise DomainError("Turn on two-factor sign-in first.", code="totp_not_enabled")
    if not password_matches(user, password):
        raise DomainError("The password is not right.", field="password")
    return generate_recovery_codes(user)


def recovery_codes_left(user: User) -> int:
    return (
        db.session.scalar(select(func.count()).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))
        or 0  # a COUNT is never NULL
    )


def use_recovery_code(user: User, code: str) -> bool:
    normalized = _normalize_recovery_code(code)
    if len(normalized) != 16:
        return False
    row = db.session.scalar(
        select(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_token(normalized),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    )
    if row is None:
        return False
    row.used_at = utcnow()
    record(user, "user.recovery_code_used", user, {"left": recovery_codes_left(user)})
    return True


def enable_totp(user: User, code: str) -> list[str]:
    """Turn the second factor on; answers the ten recovery codes to show once."""
    if not totp_code_valid(user, code):
        raise DomainError(gettext("That code is not right. Check the time on your phone and try again."), field="code")
    user.totp_enabled_at = utcnow()
    record(user, "user.totp_enabled", user)
    return generate_recovery_codes(user)


def disable_totp(user: User, password: str) -> None:
    if not password_matches(user, password):
        raise DomainError("The password is not right.", field="password")
    _clear_totp(user)
    record(user, "user.totp_disabled", user)


def _clear_totp(user: User) -> None:
    clear_field(user, "totp_secret")
    user.totp_enabled_at = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def staff_reset_totp(user: User, staff: User, reason: str = "") -> None:
    """A member of staff turns off a user's second factor (a lost phone and no recovery code left):
    audited, and the user is told by e-mail so a reset they did not ask for does not go unnoticed."""
    db.session.refresh(user, with_for_update=True)  # two staff members at once: one reset, one refusal
    if not user.totp_enabled and not has_field(user, "totp_secret"):
        raise DomainError("This user has no second factor to reset.", code="totp_not_enabled")
    _clear_totp(user)
    record(staff, "user.totp_reset_by_staff", user, {"reason": reason.strip()[:500]})
    send_email(
        user.email,
        "auth/totp_reset",
        about=user,
        subject=lazy_gettext("Two-factor sign-in was turned off on your Tessera account"),
        user=user,
        name=user.display_name,
        reason=reason.strip()[:500],
        account_link=current_app.config["BASE_URL"] + url_for("account.profile"),
    )


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


def landing_url(user) -> str:
    """Where a signed-in person starts (after sign-in, and at ``/``): staff on the console, everyone
    else in their organization."""
    from flask import url_for

    return url_for("admin.index" if user.is_authenticated and user.is_staff else "orgs.home")
