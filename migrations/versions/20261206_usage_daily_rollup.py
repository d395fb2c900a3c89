"""usage: the daily rollup (organization, metric, UTC day) the usage page reads, kept by a trigger

Two tables: ``usage_daily`` (count, sum and maximum of the quantities, in up to 16 shard rows a day
that the reader adds up: one row per day would be a lock every concurrent writer of the
organization queues on until the holder commits) and ``usage_daily_values``
(the distinct values of a unique-count metric's field). A trigger on ``usage_events`` adds what each
statement stored: on PostgreSQL one statement-level trigger over the rows the statement inserted
(its transition table), set-based; on SQLite a row trigger. Whatever stores an event (the API's
one-statement ingestion, COPY, the ORM) updates the rollup in the same transaction, and a repeat the
key table refused stores no row, so it adds nothing. Rows the partition job moves out of the DEFAULT
partition are not new: it sets ``tessera.moving_rows`` and the trigger skips them.

Which field a unique-count metric counts is read from ``usage_metrics``, or, for a default metric not
stored yet, from the defaults (``webapp.usage.services.DEFAULT_METRICS``: ``terminal.active`` counts
``terminal_id``). Then the rollup is filled from the events already stored. CREATE TRIGGER locks
``usage_events`` against inserts until this migration commits, so no event is counted twice or missed.

The index on (organization, event type, time), which served the charts, gives way to one on
(organization, id) for the page's list of recent events: its keyset read probes each month partition,
and without it a month holding none of the organization's events was read whole.

Revision ID: 20261206_usage_daily_rollup
Revises: 20261205_i18n_locale
Create Date: 2026-12-06 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261206_usage_daily_rollup"
down_revision = "20261206_baseline"
branch_labels = None
depends_on = None

BIGID = QUANTITY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# (metric, field) of each unique-count metric: the stored definitions, and the default ones not stored
# yet (as webapp.usage.services.DEFAULT_METRICS defines them today; a migration keeps its own copy).
UNIQUE_FIELDS = (
    "(SELECT code, unique_field FROM usage_metrics WHERE aggregation = 'unique_count' AND unique_field IS NOT NULL"
    " UNION ALL SELECT 'terminal.active' AS code, 'terminal_id' AS unique_field"
    " WHERE NOT EXISTS (SELECT 1 FROM usage_metrics WHERE code = 'terminal.active'))"
)

SHARDS = 16  # rows per organization, metric and day in usage_daily, summed by the reader
PG_VALUE = "CASE WHEN length({v}) > 1000 THEN 'md5:' || md5({v}) ELSE {v} END"
PG_FUNCTION = f"""
CREATE FUNCTION usage_daily_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('tessera.moving_rows', true) = 'on' THEN
        RETURN NULL;
    END IF;
    -- in key order, so two statements lock the rows they share in the same order (no deadlock)
    -- the row of this connection's shard: concurrent writers of one organization and day rarely
    -- share a row, so they do not queue on its lock until each other's commit
    INSERT INTO usage_daily AS d (organization_id, metric, day, shard, event_count, sum_quantity, max_quantity)
    SELECT organization_id, event_type, ("timestamp" AT TIME ZONE 'UTC')::date, pg_backend_pid() % {SHARDS},
           count(*), sum(quantity), max(quantity)
    FROM stored GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (organization_id, metric, day, shard) DO UPDATE
    SET event_count = d.event_count + excluded.event_count,
        sum_quantity = d.sum_quantity + excluded.sum_quantity,
        max_quantity = greatest(d.max_quantity, excluded.max_quantity);
    INSERT INTO usage_daily_values (organization_id, metric, day, value)
    SELECT DISTINCT s.organization_id, s.event_type, (s."timestamp" AT TIME ZONE 'UTC')::date,
           {PG_VALUE.format(v="(s.data ->> m.unique_field)")}
    FROM stored s
    JOIN {UNIQUE_FIELDS} m ON m.code = s.event_type
    WHERE s.data ->> m.unique_field IS NOT NULL
    ORDER BY 1, 2, 3, 4
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$
"""
PG_TRIGGER = (
    "CREATE TRIGGER usage_daily_rollup AFTER INSERT ON usage_events REFERENCING NEW TABLE AS stored"
    " FOR EACH STATEMENT EXECUTE FUNCTION usage_daily_rollup()"
)
SQLITE_TRIGGER = f"""
CREATE TRIGGER usage_daily_rollup AFTER INSERT ON usage_events
BEGIN
    INSERT INTO usage_daily (organization_id, metric, day, shard, event_count, sum_quantity, max_quantity)
    VALUES (NEW.organization_id, NEW.event_type, date(NEW."timestamp"), 0, 1, NEW.quantity, NEW.quantity)
    ON CONFLICT (organization_id, metric, day, shard) DO UPDATE
    SET event_count = event_count + 1,
        sum_quantity = sum_quantity + excluded.sum_quantity,
        max_quantity = max(max_quantity, excluded.max_quantity);
    INSERT INTO usage_daily_values (organization_id, metric, day, value)
    SELECT NEW.organization_id, NEW.event_type, date(NEW."timestamp"),
           CAST(json_extract(NEW.data, '$.' || m.unique_field) AS TEXT)
    FROM {UNIQUE_FIELDS} m
    WHERE m.code = NEW.event_type AND json_extract(NEW.data, '$.' || m.unique_field) IS NOT NULL
    ON CONFLICT DO NOTHING;
END
"""


def _day(conn, column: str) -> str:
    if conn.dialect.name == "postgresql":
        return f"({column} AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def _value(conn, expression: str) -> str:
    if conn.dialect.name == "postgresql":
        return PG_VALUE.format(v=expression)
    return f"CAST({expression} AS TEXT)"


def _field(conn, data: str, field: str) -> str:
    if conn.dialect.name == "postgresql":
        return f"({data} ->> {field})"
    return f"json_extract({data}, '$.' || {field})"


def upgrade():
    for table in ("usage_daily", "usage_daily_values"):
        last = (
            [
                sa.Column("shard", sa.SmallInteger(), nullable=False),
                sa.Column("event_count", QUANTITY, nullable=False),
                sa.Column("sum_quantity", QUANTITY, nullable=False),
                sa.Column("max_quantity", QUANTITY, nullable=False),
            ]
            if table == "usage_daily"
            else [sa.Column("value", sa.Text(), nullable=False)]
        )
        keys = ["organization_id", "metric", "day"] + (["shard"] if table == "usage_daily" else ["value"])
        op.create_table(
            table,
            sa.Column("organization_id", BIGID, nullable=False),
            sa.Column("metric", sa.String(length=64), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            *last,
            sa.ForeignKeyConstraint(
                ["organization_id"],
                ["organizations.id"],
                name=op.f(f"fk_{table}_organization_id_organizations"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint(*keys, name=op.f(f"pk_{table}")),
        )
    # The charts no longer read the events by type; the list of recent events (newest id first, per
    # organization) gets the index that answers it in every month partition (no more indexes per event).
    op.drop_index("ix_usage_events_org_type_time", table_name="usage_events")
    op.create_index("ix_usage_events_org_id", "usage_events", ["organization_id", "id"])
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)
    backfill(conn)


def backfill(conn) -> None:
    """The rollup of the events already stored (also run by the test that checks it)."""
    day = _day(conn, 'e."timestamp"')
    conn.execute(
        sa.text(
            "INSERT INTO usage_daily (organization_id, metric, day, shard, event_count, sum_quantity, max_quantity)"
            f" SELECT e.organization_id, e.event_type, {day}, 0, count(*), sum(e.quantity), max(e.quantity)"
            f" FROM usage_events e GROUP BY e.organization_id, e.event_type, {day}"
        )
    )
    field = _field(conn, "e.data", "m.unique_field")
    conn.execute(
        sa.text(
            "INSERT INTO usage_daily_values (organization_id, metric, day, value)"
            f" SELECT DISTINCT e.organization_id, e.event_type, {day}, {_value(conn, field)}"
            f" FROM usage_events e JOIN {UNIQUE_FIELDS} m ON m.code = e.event_type"
            f" WHERE {field} IS NOT NULL"
        )
    )


def downgrade():
    conn = op.get_bind()
    op.execute(
        "DROP TRIGGER IF EXISTS usage_daily_rollup" + (" ON usage_events" if conn.dialect.name == "postgresql" else "")
    )
    if conn.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS usage_daily_rollup()")
    op.drop_table("usage_daily_values")
    op.drop_table("usage_daily")
    op.drop_index("ix_usage_events_org_id", table_name="usage_events")
    op.create_index("ix_usage_events_org_type_time", "usage_events", ["organization_id", "event_type", "timestamp"])
