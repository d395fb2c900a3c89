"""The e-mail log (seed 001 ``EmailLog``): every message with its rendered body and delivery state.

The bodies staff read are stored with one-time link tokens redacted. A message that carried such a
link also keeps its live parts encrypted (``live_body``) until it is sent, then forgets them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import BigId, TimestampMixin
from webapp.extensions import Model
from webapp.secrets import EncryptedColumns, encrypted_fields

if TYPE_CHECKING:
    _LiveBody = EncryptedColumns
else:
    _LiveBody = encrypted_fields("live_body")


class EmailMessage(TimestampMixin, _LiveBody, Model):
    """On PostgreSQL partitioned by the month of ``created_at`` (``webapp/core/partitions.py``): the
    primary key there is ``(id, created_at)``; ids still come from one sequence."""

    __tablename__ = "email_messages"
    __table_args__ = (
        Index("ix_email_messages_status_id", "status", "id"),
        Index("ix_email_messages_about", "about_type", "about_id"),
    )

    QUEUED, SENT, FAILED = "QUEUED", "SENT", "FAILED"
    HELD = "HELD"  # its organization is suspended: delivered on reactivation (``orgs/suspension.py``)

    organization_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    template: Mapped[str] = mapped_column(String(128))
    html_body: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(255))
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]  # the last failed attempt (``error`` says why)
    # What the message was about (an invoice, a ticket, an invitation…), named when it is queued.
    about_type: Mapped[str | None] = mapped_column(String(64))
    about_id: Mapped[int | None] = mapped_column(BigId)
