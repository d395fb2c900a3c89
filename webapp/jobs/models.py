"""The job outbox: a job asked for by a change is a row written in that change's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, utcnow


class JobOutbox(Base):
    """One job on its way to RQ. ``dispatched_at`` is set once RQ has it (the RQ job id is
    ``job_id`` or ``tessera-<instance>-outbox-<id>``, so a row is never enqueued twice)."""

    __tablename__ = "job_outbox"

    func: Mapped[str] = mapped_column(String(255))  # dotted path of the @job function
    args: Mapped[list] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict] = mapped_column(JSON, default=dict)
    queue: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime | None]  # run at (RQ's scheduled registry); None = now
    job_id: Mapped[str | None] = mapped_column(String(200))  # an explicit RQ job id, if the caller gave one
    # Goes ahead of the queue's waiting jobs: the next step of work already under way (a publish target's).
    at_front: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(index=True)
