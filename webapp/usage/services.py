"""Usage events in (lean: one multi-row INSERT … ON CONFLICT DO NOTHING per batch), usage records out.

Billing periods for metering are calendar months in UTC. Records are recomputed from the events
(exact, idempotent) by a job every few minutes and once more when the billing run closes the period.
"""

from __future__ import annotations

import json
import logging
import math
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from webapp.core.bulk import assign_new_ids
from webapp.core.models import rowcount, utcnow
from webapp.core.parsing import parse_instant
from webapp.extensions import db
from webapp.settings import define, get
from webapp.usage.models import (
    COUNT,
    MAX,
    SUM,
    UNIQUE_COUNT,
    UsageEvent,
    UsageMetric,
    UsagePeriod,
    UsageRecord,
    usage_event_keys,
)

MAX_BATCH = 1000
MAX_AGE = timedelta(days=35)
MAX_AHEAD = timedelta(minutes=5)
MAX_QUANTITY = 10**12
MAX_DATA_BYTES = 4096
EVENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-/]{0,127}$")
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_.:\-]{0,63}$")

DEFAULT_METRICS = [
    {"code": "pos.transaction", "name": "POS transactions", "aggregation": SUM, "unit": "transactions"},
    {"code": "api.request", "name": "API requests", "aggregation": COUNT, "unit": "requests"},
    {"code": "sms.sent", "name": "SMS sent", "aggregation": SUM, "unit": "messages"},
    {
        "code": "terminal.active",
        "name": "Active terminals",
        "aggregation": UNIQUE_COUNT,
        "unique_field": "terminal_id",
        "unit": "terminals",
    },
    {"code": "storage.peak_gb", "name": "Peak storage", "aggregation": MAX, "unit": "GB"},
]


# ------------------------------------------------------------------ periods


def month_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


# ------------------------------------------------------------------ metrics


def ensure_metrics() -> dict[str, UsageMetric]:
    metrics = {m.code: m for m in db.session.scalars(select(UsageMetric))}
    for spec in DEFAULT_METRICS:
        if spec["code"] not in metrics:
            metric = UsageMetric(**spec)
            db.session.add(metric)
            metrics[metric.code] = metric
    if db.session.new:
        db.session.flush()
    return metrics


def known_metrics() -> dict[str, UsageMetric]:
    """What ``ensure_metrics`` would give, without writing: the defaults not stored yet are unsaved
    objects. For pages and API reads (GET writes nothing)."""
    metrics = {m.code: m for m in db.session.scalars(select(UsageMetric))}
    for spec in DEFAULT_METRICS:
        metrics.setdefault(spec["code"], UsageMetric(**spec))
    return metrics


def metric_for(code: str, metrics: dict[str, UsageMetric]) -> UsageMetric:
    return metrics.get(code) or UsageMetric(code=code, name=code, aggregation=SUM, unit="units")


# ------------------------------------------------------------------ ingestion (hot path)


_FIELDS = frozenset({"event_id", "event_type", "quantity", "timestamp", "data"})


def _compact_encoder():
    """``json.dumps(value, separators=(",", ":"))`` as one reusable function. ``JSONEncoder.encode``
    builds the C encoder again on every call, which costs several times the encoding of a small
    ``data`` object; this builds it once (without the circular-reference check: a parsed JSON body
    holds no cycle). Falls back to ``encode`` where the C accelerator is missing."""
    from json import encoder

    plain = json.JSONEncoder(separators=(",", ":"))
    make = getattr(encoder, "c_make_encoder", None)
    if make is None:
        return plain.encode
    one = make(None, plain.default, encoder.encode_basestring_ascii, None, ":", ",", False, False, True)

    def encode(value) -> str:
        if isinstance(value, str):
            return encoder.encode_basestring_ascii(value)
        return "".join(one(value, 0))

    return encode


_compact_json = _compact_encoder()


# Why an event is rejected: the code, and the words in the answer (the document lists the codes).
REJECTIONS = {
    "invalid_event": "Each event is a JSON object.",
    "unknown_field": "Unknown field(s): {fields}.",
    "invalid_event_id": "event_id is 1 to 128 letters, digits and . _ : - /, starting with a letter or digit.",
    "invalid_event_type": "event_type is 1 to 64 lowercase letters, digits and . _ : -.",
    "invalid_quantity": "quantity is a whole number from 0 to 10^12.",
    "missing_timestamp": "timestamp is required (ISO 8601 with a time zone).",
    "invalid_timestamp": "timestamp is ISO 8601 with a time zone, e.g. 2026-11-23T10:00:00Z.",
    "timestamp_too_old": "timestamp is more than 35 days ago.",
    "timestamp_in_future": "timestamp is more than 5 minutes ahead.",
    "invalid_data": "data is a JSON object.",
    "data_too_large": "data is larger than 4 KB.",
    "period_closed": "That billing period is already closed and invoiced.",
}
_REJECTED = {code: (None, code, message) for code, message in REJECTIONS.items()}


def validate(raw, now: datetime, times: dict | None = None) -> tuple[tuple | None, str | None, str | None]:
    """(row, None, None) for a good event, else (None, code, message). ``times`` caches parsed
    timestamps within one batch (its events often share one).

    The hot path's own checks, kept fast by hand: ``webapp.usage.schemas.UsageEvent`` states the same
    rules as a model (the document's schema is generated from it) and a generated test proves the two agree."""
    if not isinstance(raw, dict):
        return _REJECTED["invalid_event"]
    if not raw.keys() <= _FIELDS:
        unknown = set(raw) - _FIELDS
        return None, "unknown_field", REJECTIONS["unknown_field"].format(fields=", ".join(sorted(unknown)))
    event_id = raw.get("event_id")
    if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
        return _REJECTED["invalid_event_id"]
    event_type = raw.get("event_type")
    if not isinstance(event_type, str) or not EVENT_TYPE.fullmatch(event_type):
        return _REJECTED["invalid_event_type"]
    quantity = raw.get("quantity", 1)
    if isinstance(quantity, float) and quantity.is_integer():
        quantity = int(quantity)  # JSON Schema's integer: 4384.0 is the whole number 4384
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
        return _REJECTED["invalid_quantity"]
    if "timestamp" not in raw:
        return _REJECTED["missing_timestamp"]
    stamp = raw["timestamp"]
    if times is None:
        moment = parse_instant(stamp)
    elif isinstance(stamp, str) and stamp in times:
        moment = times[stamp]
    else:
        moment = parse_instant(stamp)
        if isinstance(stamp, str):
            times[stamp] = moment
    if moment is None:
        return _REJECTED["invalid_timestamp"]
    if moment < now - MAX_AGE:
        return _REJECTED["timestamp_too_old"]
    if moment > now + MAX_AHEAD:
        return _REJECTED["timestamp_in_future"]
    data = raw.get("data")
    data_text = None
    if data is not None:
        if not isinstance(data, dict):
            return _REJECTED["invalid_data"]
        data_text = _compact_json(data)
        if len(data_text) > MAX_DATA_BYTES:
            return _REJECTED["data_too_large"]
    return (event_id, event_type, quantity, moment, data_text), None, None


def _closed_periods(org_id: int, starts: set[datetime]) -> set[datetime]:
    if not starts:
        return set()
    rows = db.session.scalars(
        select(UsagePeriod.period_start).where(
            UsagePeriod.organization_id == org_id, UsagePeriod.period_start.in_(sorted(starts))
        )
    )
    return {r.astimezone(UTC) if r.tzinfo else r.replace(tzinfo=UTC) for r in rows}


# The whole batch travels as one JSON text parameter (no per-value array escaping in the driver);
# ``data`` is embedded as JSON, and ``->>`` gives its text back (SQL NULL for a JSON null).
# One statement: the event ids new to ``usage_event_keys`` are claimed there (the idempotency key,
# whatever the timestamp: ``usage_events`` is partitioned by it) and only those events are stored.
_PG_INSERT_SQL = (
    "WITH incoming AS ("
    " SELECT e->>0 AS event_id, e->>1 AS event_type, CAST(e->>2 AS bigint) AS quantity,"
    " CAST(e->>3 AS timestamptz) AS moment, CAST(e->>4 AS json) AS data"
    " FROM json_array_elements(CAST(%(rows)s AS json)) AS e),"
    " fresh AS ("
    " INSERT INTO usage_event_keys (organization_id, event_id) SELECT %(org)s, event_id FROM incoming"
    " ON CONFLICT (organization_id, event_id) DO NOTHING RETURNING event_id)"
    " INSERT INTO usage_events"
    ' (organization_id, api_key_id, event_id, event_type, quantity, "timestamp", data, received_at)'
    " SELECT %(org)s, %(key)s, i.event_id, i.event_type, i.quantity, i.moment, i.data, %(now)s"
    " FROM incoming i JOIN fresh f ON f.event_id = i.event_id"
    " RETURNING event_id"
)
_PG_INSERT = text(re.sub(r"%\((\w+)\)s", r":\1", _PG_INSERT_SQL))
_INGEST_ENGINE = "tessera.usage_ingest_engine"


def _ingest_engine():
    """A small pool of AUTOCOMMIT connections for ingestion, without the per-checkout pre-ping: a
    single INSERT … ON CONFLICT DO NOTHING is atomic (and durable: synchronous_commit is untouched)
    on its own, so the request costs one database round trip. A connection that died while idle is
    detected by the failing statement; ``_insert_autocommit`` then retries once on a fresh one."""
    from flask import current_app
    from sqlalchemy import create_engine

    engine = current_app.extensions.get(_INGEST_ENGINE)
    if engine is None or engine.url != db.engine.url:
        engine = create_engine(
            db.engine.url,
            isolation_level="AUTOCOMMIT",
            pool_pre_ping=False,
            pool_reset_on_return=None,
            pool_size=8,
            max_overflow=8,
            pool_recycle=1800,
        )
        current_app.extensions[_INGEST_ENGINE] = engine
        # Disposed with the application's engine (tests, forks), so no connection outlives it.
        event.listen(db.engine, "engine_disposed", lambda _conn: engine.dispose())
    return engine


def _insert_autocommit(params: dict) -> set[str]:
    engine = _ingest_engine()
    retry = True
    while True:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(_PG_INSERT_SQL, params)
            stored = {row[0] for row in cursor.fetchall()}
            cursor.close()
        except engine.dialect.loaded_dbapi.OperationalError as exc:
            # The connection is unusable (server restarted, idle connection dropped): discard it and
            # retry once. The statement is idempotent (ON CONFLICT DO NOTHING).
            # As SQLAlchemy does on a disconnect: this connection and every pooled one opened before
            # now are replaced (after a server restart they are all dead).
            engine.pool._invalidate(raw, exc)
            logging.getLogger(__name__).info("usage ingest: discarded dead database connections")
            if not retry:
                raise
            retry = False
            continue
        except BaseException:
            raw.close()
            raise
        raw.close()
        return stored


def _pg_payload(rows: list[tuple]) -> str:
    """The batch as one JSON array of ``[event_id, event_type, quantity, timestamp, data]``, written
    directly: ids and types passed ``EVENT_ID`` / ``EVENT_TYPE`` (no character needs escaping) and
    ``data`` is already compact JSON, so nothing is encoded twice; the events of a batch usually
    share a few instants, each formatted once."""
    stamps: dict[datetime, str] = {}
    parts = []
    for event_id, event_type, quantity, moment, data in rows:
        stamp = stamps.get(moment)
        if stamp is None:
            stamp = stamps[moment] = moment.isoformat()
        parts.append(f'["{event_id}","{event_type}",{quantity},"{stamp}",{data or "null"}]')
    return "[" + ",".join(parts) + "]"


def _insert(org_id: int, api_key_id: int | None, rows: list[tuple], now: datetime) -> set[str]:
    """Insert what is new; return the event ids this statement stored (the rest were already there)."""
    if db.engine.dialect.name == "postgresql":
        payload = _pg_payload(rows)
        params = {"org": org_id, "key": api_key_id, "now": now, "rows": payload}
        if not db.session().in_transaction():
            # One statement is atomic on its own: autocommit saves the BEGIN/COMMIT round trips.
            return _insert_autocommit(params)
        return set(db.session.execute(_PG_INSERT, params).scalars())
    new_ids = set(
        db.session.execute(
            sqlite_insert(usage_event_keys)
            .values([{"organization_id": org_id, "event_id": r[0]} for r in rows])
            .on_conflict_do_nothing(index_elements=["organization_id", "event_id"])
            .returning(usage_event_keys.c.event_id)
        ).scalars()
    )
    values = [
        {
            "organization_id": org_id,
            "api_key_id": api_key_id,
            "event_id": r[0],
            "event_type": r[1],
            "quantity": r[2],
            "timestamp": r[3],
            "data": json.loads(r[4]) if r[4] else None,
            "received_at": now,
        }
        for r in rows
        if r[0] in new_ids
    ]
    if values:
        db.session.execute(insert(UsageEvent.__table__).values(values))
    return new_ids


def ingest(org_id: int, api_key_id: int | None, events: list, now: datetime | None = None) -> dict:
    """Store new events once. Returns {"accepted": [ids], "duplicate": [ids], "rejected": [{…}]}."""
    now = now or utcnow()
    rows: list[tuple] = []
    rejected: list[dict] = []
    seen: set[str] = set()
    in_batch_duplicates: list[str] = []
    current = month_start(now)
    earlier: dict[datetime, list[int]] = {}
    times: dict = {}
    for index, raw in enumerate(events):
        row, code, message = validate(raw, now, times)
        if row is None:
            event_id = raw.get("event_id") if isinstance(raw, dict) and isinstance(raw.get("event_id"), str) else None
            rejected.append({"index": index, "event_id": event_id, "code": code, "message": message})
            continue
        if row[0] in seen:
            in_batch_duplicates.append(row[0])
            continue
        seen.add(row[0])
        if row[3] < current:
            earlier.setdefault(month_start(row[3]), []).append(len(rows))
        rows.append(row)
    if earlier:
        closed = _closed_periods(org_id, set(earlier))
        if closed:
            drop = {i for start in closed for i in earlier[start]}
            for i in sorted(drop):
                rejected.append(
                    {
                        "index": None,
                        "event_id": rows[i][0],
                        "code": "period_closed",
                        "message": REJECTIONS["period_closed"],
                    }
                )
            rows = [r for i, r in enumerate(rows) if i not in drop]
    stored = _insert(org_id, api_key_id, rows, now) if rows else set()
    accepted = [r[0] for r in rows if r[0] in stored]
    duplicate = [r[0] for r in rows if r[0] not in stored] + in_batch_duplicates
    return {"accepted": accepted, "duplicate": duplicate, "rejected": rejected}


# ------------------------------------------------------------------ aggregation


def _aggregate_rows(period_start: datetime, period_end: datetime, org_id: int | None = None, org_ids=None):
    """(org, event_type) → [count, sum, max, unique] for events in the period."""
    base = [UsageEvent.timestamp >= period_start, UsageEvent.timestamp < period_end]
    if org_id is not None:
        base.append(UsageEvent.organization_id == org_id)
    if org_ids is not None:
        base.append(UsageEvent.organization_id.in_(org_ids))
    stmt = (
        select(
            UsageEvent.organization_id,
            UsageEvent.event_type,
            func.count(),
            func.coalesce(func.sum(UsageEvent.quantity), 0),
            func.coalesce(func.max(UsageEvent.quantity), 0),
        )
        .where(*base)
        .group_by(UsageEvent.organization_id, UsageEvent.event_type)
    )
    result = {(o, t): [c, int(s), int(m), 0] for o, t, c, s, m in db.session.execute(stmt)}
    metrics = ensure_metrics()
    for metric in metrics.values():
        if metric.aggregation != UNIQUE_COUNT or not metric.unique_field:
            continue
        unique = (
            select(
                UsageEvent.organization_id,
                func.count(func.distinct(UsageEvent.data[metric.unique_field].as_string())),
            )
            .where(*base, UsageEvent.event_type == metric.code)
            .group_by(UsageEvent.organization_id)
        )
        for o, n in db.session.execute(unique):
            if (o, metric.code) in result:
                result[(o, metric.code)][3] = n
    return result, metrics


def refresh_records(
    period_start: datetime, org_id: int | None = None, *, close: bool = False, org_ids=None
) -> list[UsageRecord]:
    """Recompute the records of one month from its events (for one organization, a set of them, or all)."""
    from webapp.subscriptions.models import Subscription

    if org_id is not None:
        org_ids = [org_id]
    period_end = next_month(period_start)
    aggregates, metrics = _aggregate_rows(period_start, period_end, org_ids=org_ids)
    existing_stmt = select(UsageRecord).where(UsageRecord.period_start == period_start)
    subs_stmt = select(Subscription.organization_id, Subscription.id).where(Subscription.ended_at.is_(None))
    if org_ids is not None:
        existing_stmt = existing_stmt.where(UsageRecord.organization_id.in_(org_ids))
        subs_stmt = subs_stmt.where(Subscription.organization_id.in_(org_ids))
    existing = {(r.organization_id, r.metric): r for r in db.session.scalars(existing_stmt)}
    subs = dict(db.session.execute(subs_stmt).all())
    now = utcnow()
    touched = []
    for key in set(aggregates) | set(existing):
        count, total, peak, unique = aggregates.get(key, [0, 0, 0, 0])
        record = existing.get(key)
        if record is None:
            record = UsageRecord(
                organization_id=key[0], metric=key[1], period_start=period_start, period_end=period_end
            )
            db.session.add(record)
        if record.closed_at is not None and not close:
            continue
        metric = metric_for(key[1], metrics)
        record.aggregation = metric.aggregation
        record.event_count, record.sum_quantity, record.max_quantity, record.unique_count = count, total, peak, unique
        record.value = {COUNT: count, SUM: total, MAX: peak, UNIQUE_COUNT: unique}[metric.aggregation]
        record.subscription_id = record.subscription_id or subs.get(key[0])
        record.computed_at = now
        if close:
            record.closed_at = now
        touched.append(record)
    assign_new_ids()  # a billing run's batch closes ~1,500 records: one executemany, not INSERT … RETURNING
    db.session.flush()
    return touched


def refresh_current(now: datetime | None = None) -> int:
    """The job: keep this month's records (and last month's, until closed) current."""
    now = now or utcnow()
    start = month_start(now)
    touched = refresh_records(start)
    if now - start < MAX_AGE:
        previous = month_start(start - timedelta(days=1))
        touched += refresh_records(previous)
    return len(touched)


def close_period(org_id: int, period_start: datetime) -> list[UsageRecord]:
    """Exact final records for the month; later events for it are refused."""
    period_start = month_start(period_start)
    found = db.session.scalar(
        select(UsagePeriod).where(UsagePeriod.organization_id == org_id, UsagePeriod.period_start == period_start)
    )
    if found is None:
        db.session.add(
            UsagePeriod(organization_id=org_id, period_start=period_start, period_end=next_month(period_start))
        )
        db.session.flush()
    return refresh_records(period_start, org_id, close=True)


def close_periods(org_ids: list[int], period_start: datetime) -> list[UsageRecord]:
    """``close_period`` for many organizations at once: one query for the periods already closed, one
    bulk insert for the others, one recomputation of their records."""
    period_start = month_start(period_start)
    if not org_ids:
        return []
    found = set(
        db.session.scalars(
            select(UsagePeriod.organization_id).where(
                UsagePeriod.organization_id.in_(org_ids), UsagePeriod.period_start == period_start
            )
        )
    )
    missing = [o for o in dict.fromkeys(org_ids) if o not in found]
    if missing:
        now, period_end = utcnow(), next_month(period_start)
        db.session.execute(
            insert(UsagePeriod),
            [
                {"organization_id": o, "period_start": period_start, "period_end": period_end, "closed_at": now}
                for o in missing
            ],
        )
    return refresh_records(period_start, org_ids=list(org_ids), close=True)


def records_for(org_id: int, months: int = 6) -> list[UsageRecord]:
    since = month_start(utcnow())
    for _ in range(months - 1):
        since = month_start(since - timedelta(days=1))
    stmt = (
        select(UsageRecord)
        .where(UsageRecord.organization_id == org_id, UsageRecord.period_start >= since)
        .order_by(UsageRecord.period_start.desc(), UsageRecord.metric)
    )
    return list(db.session.scalars(stmt))


# ------------------------------------------------------------------ billing


def metered_lines(org_id: int, period_start, period_end) -> list[dict]:
    """Lines for the metered usage of every month that starts in [period_start, period_end)."""
    from webapp.orgs.models import Organization
    from webapp.subscriptions.services import current_subscription

    start = month_start(_as_datetime(period_start))
    end = _as_datetime(period_end)
    org = db.session.get(Organization, org_id)
    sub = current_subscription(org)
    prices = sub.plan.metered_prices or {}
    metrics = ensure_metrics()
    lines = []
    while start < end:
        records = {r.metric: r for r in close_period(org_id, start)}
        for code, price in sorted(prices.items()):
            record = records.get(code)
            value = record.value if record else 0
            included, per = int(price.get("included", 0)), max(1, int(price.get("per", 1)))
            billable = max(0, value - included)
            units = math.ceil(billable / per)
            if units <= 0:
                continue
            metric = metric_for(code, metrics)
            label = f"{metric.name} {start:%Y-%m}: {value:,} {metric.unit}, {included:,} included"
            if per > 1:
                label += f", per {per:,}"
            quantity, unit_price = units, int(price["unit_price"])
            if quantity > 1_000_000:
                quantity, unit_price = 1, units * unit_price
            lines.append(
                {
                    "description": label,
                    "quantity": quantity,
                    "unit_price": unit_price,
                    "metric": code,
                    "subscription_id": sub.id,
                }
            )
        start = next_month(start)
    return lines


def metered_lines_for_orgs(org_ids: list[int], period_start, period_end) -> dict[int, list[dict]]:
    """``metered_lines`` for many organizations with a handful of set-based queries (the billing run's
    batch source): their subscriptions and plans in one query, periods closed and records recomputed
    once per month for all of them."""
    from webapp.orgs.models import Organization
    from webapp.subscriptions.catalog import FREE, plan_by_code
    from webapp.subscriptions.models import Plan, Subscription
    from webapp.subscriptions.services import current_subscription

    org_ids = list(dict.fromkeys(org_ids))
    if not org_ids:
        return {}
    start = month_start(_as_datetime(period_start))
    end = _as_datetime(period_end)
    subs: dict[int, tuple[int, dict]] = {
        org: (sub_id, prices or {})
        for org, sub_id, prices in db.session.execute(
            select(Subscription.organization_id, Subscription.id, Plan.metered_prices)
            .join(Plan, Plan.id == Subscription.plan_id)
            .where(Subscription.organization_id.in_(org_ids), Subscription.ended_at.is_(None))
            .order_by(Subscription.id)
        )
    }
    missing = [o for o in org_ids if o not in subs]
    if missing:
        free = plan_by_code(FREE)
        if free is not None and free.metered_prices:
            # Only when staff gave FREE metered prices do lines need the (lazily created) subscription.
            for org_id in missing:
                sub = current_subscription(db.session.get(Organization, org_id))
                subs[org_id] = (sub.id, sub.plan.metered_prices or {})
    metrics = ensure_metrics()
    lines: dict[int, list[dict]] = {o: [] for o in org_ids}
    while start < end:
        records = {(r.organization_id, r.metric): r for r in close_periods(org_ids, start)}
        for org_id in org_ids:
            sub_id, prices = subs.get(org_id, (None, {}))
            for code, price in sorted(prices.items()):
                record = records.get((org_id, code))
                line = _metered_line(code, price, record.value if record else 0, start, metrics, sub_id)
                if line:
                    lines[org_id].append(line)
        start = next_month(start)
    return {o: found for o, found in lines.items() if found}


def _metered_line(code: str, price: dict, value: int, start: datetime, metrics, sub_id) -> dict | None:
    included, per = int(price.get("included", 0)), max(1, int(price.get("per", 1)))
    billable = max(0, value - included)
    units = math.ceil(billable / per)
    if units <= 0:
        return None
    metric = metric_for(code, metrics)
    label = f"{metric.name} {start:%Y-%m}: {value:,} {metric.unit}, {included:,} included"
    if per > 1:
        label += f", per {per:,}"
    quantity, unit_price = units, int(price["unit_price"])
    if quantity > 1_000_000:
        quantity, unit_price = 1, units * unit_price
    return {
        "description": label,
        "quantity": quantity,
        "unit_price": unit_price,
        "metric": code,
        "subscription_id": sub_id,
    }


def _as_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


# ------------------------------------------------------------------ retention

define(
    "usage.events_retention_months",
    int,
    13,
    "Months raw usage events are kept after their billing period ends (a period not yet closed is kept)",
    minimum=1,
    maximum=120,
)


def _month_open(start: datetime) -> bool:
    """True while some organization with events in the month has not had that billing period closed."""
    end = next_month(start)
    closed = select(UsagePeriod.id).where(
        UsagePeriod.organization_id == UsageEvent.organization_id, UsagePeriod.period_start == start
    )
    stmt = (
        select(UsageEvent.id)
        .where(UsageEvent.timestamp >= start, UsageEvent.timestamp < end, ~closed.exists())
        .limit(1)
    )
    return db.session.scalar(stmt) is not None


def prune_events(now: datetime | None = None) -> dict:
    """Retention of raw events: a month goes, whole, once it ended at least ``usage.events_retention_months``
    months ago and every organization with events in it has had that period closed by billing (its
    usage records are final). Its idempotency keys go with it. On PostgreSQL the month's partition is
    dropped; on SQLite its rows are deleted. Returns what went and which old months were kept open."""
    from webapp.core import partitions

    limit = month_start(now or utcnow())
    for _ in range(get("usage.events_retention_months")):
        limit = partitions.previous_month(limit)
    if partitions.partitioned():
        partitions.split_default("usage_events")
        # partitions_before lists months only (the DEFAULT partition, without a start, is never among them)
        months = [p.start for p in partitions.partitions_before("usage_events", limit) if p.start is not None]
    else:
        oldest = db.session.scalar(select(func.min(UsageEvent.timestamp)).where(UsageEvent.timestamp < limit))
        months = []
        month = month_start(oldest) if oldest else limit
        while month < limit:
            held = select(UsageEvent.id).where(UsageEvent.timestamp >= month, UsageEvent.timestamp < next_month(month))
            if db.session.scalar(held.limit(1)) is not None:  # as PostgreSQL lists only months with a partition
                months.append(month)
            month = next_month(month)
    deleted, dropped, kept_open = 0, [], []
    for month in months:
        if _month_open(month):
            kept_open.append(f"{month:%Y-%m}")
            continue
        deleted += _drop_month(month)
        dropped.append(f"{month:%Y-%m}")
    return {"deleted": deleted, "months": dropped, "kept_open": kept_open}


def _drop_month(start: datetime) -> int:
    from webapp.core import partitions

    end = next_month(start)
    if partitions.partitioned():
        name = partitions.month_name("usage_events", start)
        db.session.execute(
            text(
                f'DELETE FROM usage_event_keys k USING {partitions.SCHEMA}."{name}" e'
                " WHERE k.organization_id = e.organization_id AND k.event_id = e.event_id"
            )
        )
        return partitions.drop_partition("usage_events", partitions.Partition(name, start))
    in_month = select(UsageEvent.id).where(
        UsageEvent.organization_id == usage_event_keys.c.organization_id,
        UsageEvent.event_id == usage_event_keys.c.event_id,
        UsageEvent.timestamp >= start,
        UsageEvent.timestamp < end,
    )
    db.session.execute(usage_event_keys.delete().where(in_month.exists()))
    return rowcount(
        db.session.execute(
            UsageEvent.__table__.delete().where(UsageEvent.timestamp >= start, UsageEvent.timestamp < end)
        )
    )
