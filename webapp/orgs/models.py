"""Organizations (the tenant), memberships with roles, and invitations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigId, TimestampMixin, utcnow
from webapp.extensions import db


class Organization(TimestampMixin, db.Model):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    country: Mapped[str] = mapped_column(String(2), default="ZW")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    is_personal: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None]

    memberships = relationship("Membership", back_populates="organization", cascade="all, delete-orphan")


class Membership(TimestampMixin, db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="MEMBER")

    organization: Mapped[Organization] = relationship(back_populates="memberships", lazy="joined")
    user = relationship("User", back_populates="memberships")

    @property
    def role_label(self) -> str:
        return self.role.title()


class Invitation(TimestampMixin, db.Model):
    __tablename__ = "invitations"

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()
    invited_by = relationship("User")

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > utcnow()
