"""System alerts for staff (seed 003 ``SystemAlert``): severity, source, message, resolution."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigId, TimestampMixin, utcnow
from webapp.extensions import Model

INFO, WARNING, ERROR, CRITICAL = "info", "warning", "error", "critical"
SEVERITIES = (INFO, WARNING, ERROR, CRITICAL)


class SystemAlert(TimestampMixin, Model):
    __tablename__ = "system_alerts"
    __table_args__ = (
        Index("ix_system_alerts_open", "resolved_at", "severity", "id"),
        Index("ix_system_alerts_source_message", "source", "fingerprint"),
    )

    severity: Mapped[str] = mapped_column(String(8), index=True)
    source: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(default=dict)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    emailed_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    resolution_note: Mapped[str | None] = mapped_column(Text)

    resolved_by = relationship("User")

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None
