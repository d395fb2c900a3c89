"""Support tickets (seed 001 ``SupportTicket``) and their thread (``SupportMessage``), with internal notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigId, OrgOwnedMixin, TimestampMixin
from webapp.extensions import Model

OPEN, IN_PROGRESS, WAITING_ON_CLIENT, RESOLVED, CLOSED = (
    "OPEN",
    "IN_PROGRESS",
    "WAITING_ON_CLIENT",
    "RESOLVED",
    "CLOSED",
)
STATUSES = (OPEN, IN_PROGRESS, WAITING_ON_CLIENT, RESOLVED, CLOSED)
# Not yet resolved: what the console counts as open tickets (business view and support queue).
UNRESOLVED = (OPEN, IN_PROGRESS, WAITING_ON_CLIENT)
STATUS_LABELS = {
    OPEN: "Open",
    IN_PROGRESS: "In progress",
    WAITING_ON_CLIENT: "Waiting on you",
    RESOLVED: "Resolved",
    CLOSED: "Closed",
}
PRIORITIES = ("LOW", "NORMAL", "HIGH", "URGENT")


class SupportTicket(TimestampMixin, OrgOwnedMixin, Model):
    __tablename__ = "support_tickets"
    __table_args__ = (
        Index("ix_support_tickets_status_id", "status", "id"),
        Index("ix_support_tickets_org_status", "organization_id", "status"),
    )

    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=OPEN)
    priority: Mapped[str] = mapped_column(String(8), default="NORMAL")
    assigned_to_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None]

    organization = relationship("Organization")
    created_by = relationship("User", foreign_keys="SupportTicket.created_by_id")
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    messages = relationship(
        "SupportMessage", back_populates="ticket", order_by="SupportMessage.id", cascade="all, delete-orphan"
    )
    attachments = relationship(
        "SupportAttachment", back_populates="ticket", order_by="SupportAttachment.id", cascade="all, delete-orphan"
    )

    @property
    def status_label(self) -> str:
        from webapp.core.display import translated

        return translated(STATUS_LABELS.get(self.status, self.status))

    @property
    def public_messages(self) -> list[SupportMessage]:
        return [m for m in self.messages if not m.is_internal]


class SupportMessage(TimestampMixin, Model):
    __tablename__ = "support_messages"

    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("support_tickets.id", ondelete="CASCADE"), index=True)
    sender_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), index=True)
    body: Mapped[str] = mapped_column(Text)
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)

    ticket = relationship("SupportTicket", back_populates="messages")
    sender = relationship("User")


class SupportAttachment(TimestampMixin, Model):
    __tablename__ = "support_attachments"

    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("support_tickets.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(500))
    uploaded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))

    ticket = relationship("SupportTicket", back_populates="attachments")
