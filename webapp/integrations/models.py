"""The one outbound-call log (seed 000 ``FreeeAuditLog`` generalized to every provider)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import BigId, utcnow
from webapp.extensions import db


class OutboundCall(db.Model):
    __tablename__ = "outbound_calls"
    __table_args__ = (
        Index("ix_outbound_calls_org_id", "organization_id", "id"),
        Index("ix_outbound_calls_provider_id", "provider", "id"),
    )

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    organization_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="SET NULL"))
    provider: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    endpoint: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int | None] = mapped_column(Integer)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    provider_request_id: Mapped[str | None] = mapped_column(String(128))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    details: Mapped[dict] = mapped_column(default=dict)
