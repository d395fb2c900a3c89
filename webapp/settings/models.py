"""System settings (seed 001 ``SystemSetting``): typed values staff edit in the console."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import BigId, TimestampMixin
from webapp.extensions import Model


class SystemSetting(TimestampMixin, Model):
    __tablename__ = "system_settings"

    key: Mapped[str] = mapped_column(String(96), unique=True)
    value: Mapped[str] = mapped_column(Text)  # stored as text, parsed by the setting's declared type
    updated_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
