"""Declarative base and the mixins every domain's models share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, registry

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware everywhere: SQLite hands back naive values, which we read as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # Every model here is mapped to a Table (DeclarativeBase allows any FromClause), and code
        # builds Core statements from it: ``Model.__table__.insert()``.
        __table__: ClassVar[Table]

    registry = registry(
        metadata=MetaData(naming_convention=NAMING),
        type_annotation_map={datetime: UTCDateTime(), dict: JSON, list: JSON, bytes: LargeBinary},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OrgOwnedMixin:
    """Everything a customer or creator owns belongs to one organization and records its creator."""

    @declared_attr
    def organization_id(cls) -> Mapped[int]:
        return mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


class JobRunMixin:
    """The background-run pattern: a row the page reads while the RQ job runs."""

    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"
    FINISHED = (SUCCEEDED, FAILED, CANCELLED)

    status: Mapped[str] = mapped_column(String(16), default="QUEUED", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict] = mapped_column(default=dict)
    errors: Mapped[list] = mapped_column(default=list)
    error_message: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.completed_at:
            return (self.completed_at - self.started_at).total_seconds()
        return None

    def mark_running(self) -> None:
        self.status = self.RUNNING
        self.attempt = (self.attempt or 0) + 1
        self.started_at = utcnow()
        self.completed_at = None

    def report_progress(self, done: int, total: int) -> None:
        self.progress = 100 if total <= 0 else min(100, int(done * 100 / total))

    def bump(self, key: str, by: int = 1) -> None:
        counts = dict(self.counts or {})
        counts[key] = counts.get(key, 0) + by
        self.counts = counts

    def add_error(self, message: str, **context) -> None:
        self.errors = [*(self.errors or []), {"message": message[:500], **context}][-200:]

    def mark_finished(self, status: str, error: str | None = None) -> None:
        self.status = status
        self.error_message = error[:2000] if error else None
        if status == self.SUCCEEDED:
            self.progress = 100
        self.completed_at = utcnow()


M = TypeVar("M", bound=Base)


def get_existing(model: type[M], row_id: int, **options: Any) -> M:
    """A row the caller holds the id of (a claim, a lease, a job's argument, a foreign key just read):
    loaded, or a plain error naming it if it was deleted meanwhile, rather than a None failing later
    on its first attribute."""
    from webapp.extensions import db

    row = db.session.get(model, row_id, **options)
    if row is None:
        raise LookupError(f"{model.__name__} {row_id} no longer exists")
    return row


def rowcount(result: Result[Any]) -> int:
    """The rows a Core or ORM-enabled UPDATE / DELETE / INSERT touched. ``Session.execute`` is typed
    as returning any ``Result``; for those statements it is a ``CursorResult``, which counts them."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} carries no row count: not an UPDATE, DELETE or INSERT")
    return result.rowcount or 0
