"""The audit log: what people and the system did. Append-only (ORM and database both refuse changes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import BigId, utcnow
from webapp.extensions import Model


class AuditEntry(Model):
    """On PostgreSQL partitioned by the month of ``created_at`` (``webapp/core/partitions.py``): the primary key
    there is ``(id, created_at)``; ids still come from one sequence."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_org_id", "organization_id", "id"),
        Index("ix_audit_entries_action_id", "action", "id"),
        Index("ix_audit_entries_entity", "entity_type", "entity_id"),
    )

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(16))  # user, system, api_key
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_label: Mapped[str] = mapped_column(String(254), default="system")
    organization_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[int | None] = mapped_column(BigId)
    details: Mapped[dict] = mapped_column(default=dict)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target):
    raise AppendOnlyError("audit entries are append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise AppendOnlyError("audit entries are append-only")
