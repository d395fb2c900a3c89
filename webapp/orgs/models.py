"""Organizations (the tenant), memberships with roles, and invitations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.access import MEMBER
from webapp.core.display import initials_of
from webapp.core.models import BigId, TimestampMixin, utcnow
from webapp.extensions import Model


class Organization(TimestampMixin, Model):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    country: Mapped[str] = mapped_column(String(2), default="ZW")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    is_personal: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None]
    # Staff suspension (seed 001 staff control): members see a "suspended" page, API keys are refused,
    # background work waits. Not the billing account's SUSPENDED (non-payment), which stops services only.
    suspended_at: Mapped[datetime | None]
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    suspended_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    # The organization's logo (seed 004 WORKSPACE_LOGO): a processed square PNG among its files.
    logo_file_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("file_uploads.id", ondelete="SET NULL", use_alter=True)
    )
    # The postal address and phone (seed 001), printed on the organization's invoices and credit notes.
    phone: Mapped[str | None] = mapped_column(String(32))
    address_line: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(16))

    memberships = relationship("Membership", back_populates="organization", cascade="all, delete-orphan")

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def initials(self) -> str:
        return initials_of(self.name)

    @property
    def address_lines(self) -> list[str]:
        """The address as printed on an invoice: street, postal code and city, country."""
        from webapp.orgs.countries import country_name

        city = " ".join(part for part in (self.postal_code, self.city) if part)
        return [line for line in (self.address_line, city, country_name(self.country)) if line]


class Membership(TimestampMixin, Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default=MEMBER)

    organization: Mapped[Organization] = relationship(back_populates="memberships", lazy="joined")
    user = relationship("User", back_populates="memberships")

    @property
    def role_label(self) -> str:
        from webapp.core.display import translated

        return translated(self.role.title())


class Invitation(TimestampMixin, Model):
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
