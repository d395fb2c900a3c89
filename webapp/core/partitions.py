"""Monthly range partitions of the history tables on PostgreSQL (docs/partitioning.md).

The usage events, the audit log, the outbound-call log and the e-mail log grow without end and are
read by recent time; on PostgreSQL each is partitioned by the month (UTC) of its time column, so
retention drops a whole month (a file unlinked) instead of deleting rows one by one. The partitions
live in their own schema (``history``), out of the application's schema, which the models describe.

A maintenance job keeps the previous month, this month and ``MONTHS_AHEAD`` months ahead in place;
a DEFAULT partition takes anything outside them, so an insert never fails. Rows that landed there
are moved into their month's partition by the next run. SQLite is not partitioned: every function
here is a no-op there and retention deletes rows instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, text

from webapp.core.models import rowcount, utcnow
from webapp.extensions import db

SCHEMA = "history"
MONTHS_AHEAD = 3
MONTHS_BEHIND = 1  # usage events may be 35 days old: last month's partition must exist too
LOCK_TIMEOUT = "10s"  # a maintenance statement waits this long for a lock, then the job retries later

# table -> the time column it is partitioned by (the baseline migration partitions them)
TABLES = {
    "usage_events": "timestamp",
    "audit_entries": "created_at",
    "outbound_calls": "created_at",
    "email_messages": "created_at",
}


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime | None  # None: the DEFAULT partition

    @property
    def end(self) -> datetime | None:
        return next_month(self.start) if self.start else None


def month_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


def previous_month(start: datetime) -> datetime:
    return month_start(start - timedelta(days=1))


def partitioned() -> bool:
    """True on PostgreSQL (where the migration partitioned the tables)."""
    return db.engine.dialect.name == "postgresql"


def month_name(table: str, start: datetime) -> str:
    return f"{table}_{start:%Y_%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _bound(moment: datetime) -> str:
    return f"'{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}+00'"


def partitions(table: str) -> list[Partition]:
    """The table's partitions, oldest month first, the DEFAULT one last."""
    rows = db.session.execute(
        text(
            "SELECT c.relname, c.relpartbound IS NOT NULL AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'"
            " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"
            " WHERE p.oid = to_regclass(:table)"
        ),
        {"table": table},
    ).all()
    pattern = re.compile(rf"^{re.escape(table)}_(\d{{4}})_(\d{{2}})$")
    months: list[tuple[datetime, str]] = []
    default: list[Partition] = []
    for name, is_default in rows:
        if is_default:
            default.append(Partition(name, None))
            continue
        match = pattern.match(name)
        if match:
            months.append((datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC), name))
    return [Partition(name, start) for start, name in sorted(months)] + default


def _create_month(table: str, start: datetime) -> str:
    name = month_name(table, start)
    db.session.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{_q(name)} PARTITION OF {_q(table)}"
            f" FOR VALUES FROM ({_bound(start)}) TO ({_bound(next_month(start))})"
        )
    )
    return name


def _columns(table: str) -> list[str]:
    return list(
        db.session.scalars(
            text(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:table) AND attnum > 0"
                " AND NOT attisdropped ORDER BY attnum"
            ),
            {"table": table},
        )
    )


def split_default(table: str) -> int:
    """Move the rows the DEFAULT partition caught into partitions of their months; returns how many."""
    return _split_default(table)[0]


def _split_default(table: str) -> tuple[int, list[str]]:
    """``split_default``, also naming the partitions it had to create.

    The DEFAULT partition is detached, a fresh one attached, the months its rows need created, and
    its rows copied through the parent (so each lands in its month) before the old one is dropped:
    rows are never updated or deleted one by one, so the audit log's append-only trigger stays on.
    """
    default = default_name(table)
    column = TABLES[table]
    if not db.session.scalar(text(f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.{_q(default)})")):
        return 0, []
    db.session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    db.session.execute(text(f"LOCK TABLE {_q(table)} IN ACCESS EXCLUSIVE MODE"))
    months = db.session.scalars(
        text(f"SELECT DISTINCT date_trunc('month', {_q(column)} AT TIME ZONE 'UTC') FROM {SCHEMA}.{_q(default)}")
    ).all()
    moving = f"{table}_moving"
    db.session.execute(text(f"ALTER TABLE {_q(table)} DETACH PARTITION {SCHEMA}.{_q(default)}"))
    db.session.execute(text(f"ALTER TABLE {SCHEMA}.{_q(default)} RENAME TO {_q(moving)}"))
    db.session.execute(text(f"CREATE TABLE {SCHEMA}.{_q(default)} PARTITION OF {_q(table)} DEFAULT"))
    existing = {p.name for p in partitions(table)}
    created = []
    for month in months:
        if month_name(table, month.replace(tzinfo=UTC)) not in existing:
            created.append(_create_month(table, month.replace(tzinfo=UTC)))
    columns = ", ".join(_q(c) for c in _columns(table))
    # Moved rows are not new: the usage rollup's trigger (migration 20261206_usage_daily_rollup) skips them.
    db.session.execute(text("SET LOCAL tessera.moving_rows = 'on'"))
    moved = rowcount(
        db.session.execute(text(f"INSERT INTO {_q(table)} ({columns}) SELECT {columns} FROM {SCHEMA}.{_q(moving)}"))
    )
    db.session.execute(text("SET LOCAL tessera.moving_rows = 'off'"))
    db.session.execute(text(f"DROP TABLE {SCHEMA}.{_q(moving)}"))
    return moved, created


def ensure_partitions(now: datetime | None = None, since: datetime | None = None) -> dict[str, list[str]]:
    """Every history table gets the months from ``since`` (default: last month) to ``MONTHS_AHEAD``
    months after this one, and a DEFAULT partition; rows caught by the DEFAULT one are moved out.
    Returns the partitions created (or filled from the DEFAULT one), per table. Safe to run twice."""
    if not partitioned():
        return {}
    now = now or utcnow()
    first = month_start(since) if since else previous_month(month_start(now))
    last = month_start(now)
    for _ in range(MONTHS_AHEAD):
        last = next_month(last)
    db.session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    created: dict[str, list[str]] = {}
    for table in TABLES:
        made = []
        if default_name(table) not in {p.name for p in partitions(table)}:
            db.session.execute(
                text(f"CREATE TABLE {SCHEMA}.{_q(default_name(table))} PARTITION OF {_q(table)} DEFAULT")
            )
        # First: a month cannot be created while the DEFAULT partition holds rows of it.
        made += _split_default(table)[1]
        existing = {p.name for p in partitions(table)}
        month = first
        while month <= last:
            if month_name(table, month) not in existing:
                made.append(_create_month(table, month))
            month = next_month(month)
        created[table] = made
    return created


def partitions_before(table: str, cutoff: datetime) -> list[Partition]:
    """Monthly partitions that end at or before ``cutoff``: every row in them is older than it."""
    return [p for p in partitions(table) if p.start is not None and next_month(p.start) <= cutoff]


def drop_partition(table: str, partition: Partition) -> int:
    """Drop one month; returns the rows it held."""
    rows = db.session.scalar(text(f"SELECT count(*) FROM {SCHEMA}.{_q(partition.name)}"))
    db.session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    db.session.execute(text(f"DROP TABLE {SCHEMA}.{_q(partition.name)}"))
    return rows or 0


def prune_before(model, cutoff: datetime) -> dict:
    """Retention for a history table: on PostgreSQL, drop the months that end at or before ``cutoff``
    (a month with any row inside the window stays whole, so rows are kept up to a month longer); on
    SQLite, delete the rows older than it. Returns ``{"deleted": rows, "partitions": [names]}``."""
    table = model.__tablename__
    column = getattr(model, TABLES[table])
    if not partitioned():
        deleted = rowcount(db.session.execute(delete(model).where(column < cutoff)))
        return {"deleted": deleted, "partitions": []}
    split_default(table)  # old rows the DEFAULT partition caught get their month first
    deleted, dropped = 0, []
    for partition in partitions_before(table, cutoff):
        deleted += drop_partition(table, partition)
        dropped.append(partition.name)
    return {"deleted": deleted, "partitions": dropped}


def partition_holding(table: str, row_id: int) -> str | None:
    """The partition a row is stored in, schema-qualified (``history.audit_entries_2026_12``)."""
    return db.session.scalar(text(f"SELECT tableoid::regclass::text FROM {_q(table)} WHERE id = :id"), {"id": row_id})
