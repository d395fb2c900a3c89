"""API keys (seed 001 ``ApiKey``): only the SHA-256 of the key and an 8-character prefix are stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import OrgOwnedMixin, TimestampMixin, utcnow
from webapp.extensions import Model

SCOPES = ("usage:write", "usage:read", "services:read", "invoices:read", "events:read")


class ApiKey(TimestampMixin, OrgOwnedMixin, Model):
    __tablename__ = "api_keys"

    audit_actor_type = "api_key"

    name: Mapped[str] = mapped_column(String(80))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(8), index=True)
    scopes: Mapped[list] = mapped_column(default=list)
    rate_limit: Mapped[int] = mapped_column(Integer, default=1000)  # requests per hour
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None] = mapped_column(index=True)

    created_by = relationship("User")

    @property
    def audit_label(self) -> str:
        return f"API key {self.key_prefix}… ({self.name})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= utcnow()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "REVOKED"
        return "EXPIRED" if self.is_expired else "ACTIVE"
