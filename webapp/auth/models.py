"""Users, server-side sessions, one-time tokens (e-mail verification, password reset), recovery codes."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.display import initials_of
from webapp.core.models import BigId, TimestampMixin, utcnow
from webapp.extensions import Model
from webapp.secrets import EncryptedColumns, encrypted_fields


def hash_token(token: str) -> str:
    """Tokens are stored only as their SHA-256; the plain token lives in the link or the cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


if TYPE_CHECKING:
    _TotpSecret = EncryptedColumns
else:
    _TotpSecret = encrypted_fields("totp_secret")


class User(TimestampMixin, _TotpSecret, Model):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    email_verified_at: Mapped[datetime | None]
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    suspended_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # The language of their pages and e-mails ("en", "ja"); none: their browser's Accept-Language decides.
    locale: Mapped[str | None] = mapped_column(String(8))
    totp_enabled_at: Mapped[datetime | None]
    # The avatar (seed 004 USER_AVATAR): a processed square PNG stored among the personal organization's files.
    avatar_file_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("file_uploads.id", ondelete="SET NULL", use_alter=True)
    )

    memberships = relationship("Membership", back_populates="user", cascade="all, delete-orphan")

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def initials(self) -> str:
        return initials_of(self.name or self.email)

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None


class UserSession(TimestampMixin, Model):
    """A signed-in browser. Revoking it logs that browser out on its next request."""

    __tablename__ = "user_sessions"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow()


class AuthToken(TimestampMixin, Model):
    """Single-use, expiring link token: purpose ``verify_email`` or ``reset_password``."""

    __tablename__ = "auth_tokens"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class RecoveryCode(TimestampMixin, Model):
    """A one-time TOTP recovery code, stored as its SHA-256 (the code has 80 random bits)."""

    __tablename__ = "user_recovery_codes"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]


class SessionUser(UserMixin):
    """What Flask-Login keeps: the user plus the server-side session that signed them in."""

    def __init__(self, user: User, session: UserSession, token: str):
        self.user = user
        self.session = session
        self.token = token

    def get_id(self) -> str:
        return self.token

    def __getattr__(self, name):
        return getattr(self.user, name)
