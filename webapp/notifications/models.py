"""Notifications per user, each user's channel choice per type, and open live connections."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigId, TimestampMixin, utcnow
from webapp.extensions import Model


class Notification(TimestampMixin, Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at", "id"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500))
    read_at: Mapped[datetime | None]

    organization = relationship("Organization")

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(TimestampMixin, Model):
    """How one user wants one type delivered: ``in_app``, ``email``, ``both`` or ``none``."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "type"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(8))


class LiveSession(TimestampMixin, Model):
    """One open live connection (seed 003 ``WebSocketSession``; here a server-sent-events stream)."""

    __tablename__ = "live_sessions"
    __table_args__ = (Index("ix_live_sessions_status_seen", "status", "last_seen_at"),)

    OPEN, CLOSED, STALE = "OPEN", "CLOSED", "STALE"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="SET NULL"))
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(8), default=OPEN)
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    user = relationship("User")


class DigestSetting(TimestampMixin, Model):
    """A user's choice of one daily e-mail digest instead of one e-mail per notification (off by default)."""

    __tablename__ = "notification_digest_settings"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)


class DigestSent(TimestampMixin, Model):
    """One row per user and day a digest went out: the daily job's idempotency key."""

    __tablename__ = "notification_digests"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date]
    notification_count: Mapped[int] = mapped_column(Integer, default=0)
    headline: Mapped[str] = mapped_column(Text, default="")
    ai_written: Mapped[bool] = mapped_column(Boolean, default=False)
    email_message_id: Mapped[int | None] = mapped_column(BigId)
