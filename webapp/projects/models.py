"""A project holds tasks; both belong to one organization."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigId, OrgOwnedMixin, TimestampMixin
from webapp.core.terms import N_
from webapp.extensions import Model


class Project(TimestampMixin, OrgOwnedMixin, Model):
    __tablename__ = "projects"

    ACTIVE, ARCHIVED = "ACTIVE", "ARCHIVED"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)

    tasks = relationship("Task", back_populates="project", order_by="Task.position, Task.id")


class Task(TimestampMixin, OrgOwnedMixin, Model):
    __tablename__ = "tasks"

    TODO, DOING, DONE = "TODO", "DOING", "DONE"
    STATUSES = (TODO, DOING, DONE)
    LABELS = {TODO: N_("To do"), DOING: N_("Doing"), DONE: N_("Done")}

    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=TODO)
    position: Mapped[int] = mapped_column(Integer, default=0)
    assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    due_date: Mapped[date | None]

    project: Mapped[Project] = relationship(back_populates="tasks")
    assignee = relationship("User", foreign_keys=[assignee_id])
