"""Metering: raw usage events (seed 001 ``UsageEvent``), billable metrics (Lago-style aggregations),
and usage records per organization, metric and billing period (seed 004 ``UsageRecord``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import BigId, TimestampMixin, utcnow
from webapp.extensions import Model, db

COUNT, SUM, MAX, UNIQUE_COUNT = "count", "sum", "max", "unique_count"
AGGREGATIONS = (COUNT, SUM, MAX, UNIQUE_COUNT)
Quantity = BigInteger().with_variant(Integer, "sqlite")


class UsageMetric(TimestampMixin, Model):
    """How events of one ``event_type`` are measured. Unknown event types are summed."""

    __tablename__ = "usage_metrics"

    code: Mapped[str] = mapped_column(String(64), unique=True)  # = event_type
    name: Mapped[str] = mapped_column(String(120))
    aggregation: Mapped[str] = mapped_column(String(16), default=SUM)
    unique_field: Mapped[str | None] = mapped_column(String(64))  # key in event data for unique_count
    unit: Mapped[str] = mapped_column(String(32), default="units")


# Idempotency: an event id is stored once per organization, whatever its timestamp. On PostgreSQL
# ``usage_events`` is partitioned by timestamp month and a unique key there would have to include the
# timestamp, so the keys live in their own table, written by the same statement (docs/partitioning.md).
usage_event_keys = db.Table(
    "usage_event_keys",
    Column("organization_id", BigId, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", String(128), primary_key=True),
)


# The daily rollup the usage page reads (never the raw events): per organization, metric (= event
# type) and UTC day, the count, sum and maximum of the quantities, and for a unique-count metric the
# distinct values of its field. A trigger on ``usage_events`` maintains both from the rows each
# statement stores (ingestion, COPY, the ORM alike), in the same transaction, so a repeat that stores
# nothing adds nothing (docs/subscriptions.md).
usage_daily = db.Table(
    "usage_daily",
    Column("organization_id", BigId, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    # PostgreSQL: the writing connection's backend pid modulo 16, so concurrent writers of one
    # organization and day rarely wait on one row's lock until each other's commit; readers add up the shards
    Column("shard", SmallInteger, primary_key=True),
    Column("event_count", Quantity, nullable=False),
    Column("sum_quantity", Quantity, nullable=False),
    Column("max_quantity", Quantity, nullable=False),
)
usage_daily_values = db.Table(
    "usage_daily_values",
    Column("organization_id", BigId, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("metric", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    # the field's value as text; on PostgreSQL one longer than 1,000 characters is kept as "md5:" + its digest
    Column("value", Text, primary_key=True),
)


class UsageEvent(Model):
    """One event as the client sent it, once per ``(organization_id, event_id)`` (``usage_event_keys``).

    On PostgreSQL partitioned by the month of ``timestamp`` (primary key ``(id, timestamp)``)."""

    __tablename__ = "usage_events"
    __table_args__ = (
        Index("ix_usage_events_org_time", "organization_id", "timestamp"),
        # the usage page's list, newest first by id: one probe per month partition, also in a month
        # without this organization's events (an index on the type served the charts, which read the rollup now)
        Index("ix_usage_events_org_id", "organization_id", "id"),
    )

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    api_key_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id", ondelete="SET NULL"))
    event_id: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Quantity, default=1)
    timestamp: Mapped[datetime]
    data: Mapped[dict | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsageRecord(TimestampMixin, Model):
    """Aggregates of one metric for one organization and billing period (a calendar month, UTC).

    All four aggregations are kept; the metric's ``aggregation`` says which one is billed (``value``).
    """

    __tablename__ = "usage_records"
    __table_args__ = (
        UniqueConstraint("organization_id", "metric", "period_start", name="uq_usage_records_org_metric_period"),
    )

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("subscriptions.id", ondelete="SET NULL"))
    metric: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    event_count: Mapped[int] = mapped_column(Quantity, default=0)
    sum_quantity: Mapped[int] = mapped_column(Quantity, default=0)
    max_quantity: Mapped[int] = mapped_column(Quantity, default=0)
    unique_count: Mapped[int] = mapped_column(Quantity, default=0)
    aggregation: Mapped[str] = mapped_column(String(16), default=SUM)
    value: Mapped[int] = mapped_column(Quantity, default=0)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]  # exact and final: the billing run read it


class UsagePeriod(Model):
    """A billing period of one organization that the billing run has closed: its records are final and
    late events for it are refused (``period_closed``)."""

    __tablename__ = "usage_periods"
    __table_args__ = (UniqueConstraint("organization_id", "period_start", name="uq_usage_periods_org_start"),)

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
