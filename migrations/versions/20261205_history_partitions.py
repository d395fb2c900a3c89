"""history partitions: usage events, the audit log, the outbound-call log and the e-mail log range-partitioned
by month on PostgreSQL; usage-event idempotency moves to its own key table (docs/partitioning.md)

Revision ID: 20261205_history_partitions
Revises: 20261204_ai_results
Create Date: 2026-12-05 00:10:00

On PostgreSQL each table is rebuilt as a partitioned table: a new table with the same columns
(``LIKE``, defaults included, so ids keep coming from the same sequence), monthly partitions in the
``history`` schema from the oldest row's month to three months ahead plus a DEFAULT one, the rows
copied, the old table dropped and the new one renamed. The primary key becomes ``(id, <time>)``
(PostgreSQL requires the partition key in every unique constraint); the indexes, foreign keys and
triggers are read from the old table and created again on the new one, so the audit log's
append-only trigger is back on every partition. No foreign key points at any of these tables (the
migration refuses to run if one does, rather than drop it silently).

``uq_usage_events_org_event_id`` cannot survive partitioning by timestamp (it would have to include
it, and the same event id sent with two timestamps would then be stored twice), so the event ids
move to ``usage_event_keys`` (primary key: organization, event id), on both databases.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "20261205_history_partitions"
down_revision = "20261204_ai_results"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SCHEMA = "history"
MONTHS_AHEAD = 3
TABLES = {
    "usage_events": "timestamp",
    "audit_entries": "created_at",
    "outbound_calls": "created_at",
    "email_messages": "created_at",
}
DROPPED_UNIQUE = {"uq_usage_events_org_event_id"}


def _month(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


def _bound(moment: datetime) -> str:
    return f"'{moment:%Y-%m-%d %H:%M:%S}+00'"


def _q(name: str) -> str:
    return '"' + name + '"'


def _definitions(conn, table: str) -> dict:
    """What the old table carries beyond its columns: index, foreign-key and trigger definitions."""
    referenced = conn.execute(
        sa.text("SELECT conname, conrelid::regclass::text FROM pg_constraint WHERE confrelid = to_regclass(:t)"),
        {"t": table},
    ).all()
    if referenced:
        raise RuntimeError(f"{table} is referenced by foreign keys {referenced}: partitioning it would break them")
    indexes = conn.execute(
        sa.text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema()"
            " AND i.tablename = :t AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname"
            " AND c.conrelid = to_regclass(:t) AND c.contype IN ('p', 'u'))"
        ),
        {"t": table},
    ).all()
    foreign = conn.execute(
        sa.text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(:t)"
            " AND contype = 'f' ORDER BY conname"
        ),
        {"t": table},
    ).all()
    triggers = conn.execute(
        sa.text(
            "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = to_regclass(:t) AND NOT tgisinternal"
            " ORDER BY tgname"
        ),
        {"t": table},
    ).scalars()
    sequence = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()
    return {
        "indexes": [d for _, d in indexes],
        "foreign": list(foreign),
        "triggers": list(triggers),
        "sequence": sequence,
    }


def _restore(conn, table: str, found: dict, primary_key: str) -> None:
    if found["sequence"]:
        op.execute(f"ALTER SEQUENCE {found['sequence']} OWNED BY {_q(table)}.id")
    op.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q('pk_' + table)} PRIMARY KEY ({primary_key})")
    for definition in found["indexes"]:
        op.execute(definition.replace(" ON ONLY ", " ON "))  # a partitioned index reads "ON ONLY"
    for name, definition in found["foreign"]:
        op.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
    for definition in found["triggers"]:
        op.execute(definition)


def _partition(conn, table: str, column: str) -> None:
    found = _definitions(conn, table)
    oldest = conn.execute(sa.text(f"SELECT min({_q(column)}) FROM {_q(table)}")).scalar()
    now = datetime.now(UTC)
    start = _month(min(oldest, now) if oldest else now)
    previous = _month(_month(now) - timedelta(days=1))
    start = min(start, previous)
    last = _month(now)
    for _ in range(MONTHS_AHEAD):
        last = _next(last)
    new = f"{table}__partitioned"
    if found["sequence"]:
        op.execute(f"ALTER SEQUENCE {found['sequence']} OWNED BY NONE")  # dropping the old table keeps it
    op.execute(
        f"CREATE TABLE {_q(new)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMMENTS)"
        f" PARTITION BY RANGE ({_q(column)})"
    )
    month = start
    while month <= last:
        op.execute(
            f"CREATE TABLE {SCHEMA}.{_q(f'{table}_{month:%Y_%m}')} PARTITION OF {_q(new)}"
            f" FOR VALUES FROM ({_bound(month)}) TO ({_bound(_next(month))})"
        )
        month = _next(month)
    op.execute(f"CREATE TABLE {SCHEMA}.{_q(table + '_default')} PARTITION OF {_q(new)} DEFAULT")
    op.execute(f"INSERT INTO {_q(new)} SELECT * FROM {_q(table)}")
    op.execute(f"DROP TABLE {_q(table)}")
    op.execute(f"ALTER TABLE {_q(new)} RENAME TO {_q(table)}")
    found["indexes"] = [d for d in found["indexes"] if not any(u in d for u in DROPPED_UNIQUE)]
    _restore(conn, table, found, f"id, {_q(column)}")


def _unpartition(conn, table: str) -> None:
    found = _definitions(conn, table)
    new = f"{table}__plain"
    if found["sequence"]:
        op.execute(f"ALTER SEQUENCE {found['sequence']} OWNED BY NONE")
    op.execute(f"CREATE TABLE {_q(new)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMMENTS)")
    op.execute(f"INSERT INTO {_q(new)} SELECT * FROM {_q(table)}")
    op.execute(f"DROP TABLE {_q(table)}")  # and its partitions
    op.execute(f"ALTER TABLE {_q(new)} RENAME TO {_q(table)}")
    _restore(conn, table, found, "id")


def upgrade():
    op.create_table(
        "usage_event_keys",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_usage_event_keys_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", "event_id", name=op.f("pk_usage_event_keys")),
    )
    op.execute(
        "INSERT INTO usage_event_keys (organization_id, event_id) SELECT organization_id, event_id FROM usage_events"
    )
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        with op.batch_alter_table("usage_events", schema=None) as batch_op:
            batch_op.drop_constraint("uq_usage_events_org_event_id", type_="unique")
        return
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    op.execute("ALTER TABLE usage_events DROP CONSTRAINT uq_usage_events_org_event_id")
    for table, column in TABLES.items():
        _partition(conn, table, column)


def downgrade():
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        for table in TABLES:
            _unpartition(conn, table)
        op.execute(f"DROP SCHEMA IF EXISTS {SCHEMA}")
        op.execute(
            "ALTER TABLE usage_events ADD CONSTRAINT uq_usage_events_org_event_id UNIQUE (organization_id, event_id)"
        )
    else:
        with op.batch_alter_table("usage_events", schema=None) as batch_op:
            batch_op.create_unique_constraint("uq_usage_events_org_event_id", ["organization_id", "event_id"])
    op.drop_table("usage_event_keys")
