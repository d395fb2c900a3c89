"""What the benchmark scripts share: a free loopback port, a percentile, a throwaway database."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p: float) -> float:
    """The nearest-rank ``p``-th percentile (``p`` in percent: 50, 95, 99)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def recreate_database(url: str) -> None:
    """Drop and create the PostgreSQL database ``url`` names (a benchmark's own, never a real one)."""
    from sqlalchemy import create_engine, text

    base, name = url.rsplit("/", 1)
    engine = create_engine(
        base.replace("postgresql://", "postgresql+psycopg://") + "/postgres", isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def fresh_database(url: str) -> None:
    """The PostgreSQL database ``url`` names (a benchmark's own), created if missing, its schema emptied.

    Emptying the schema instead of dropping the database: DROP DATABASE waits for a checkpoint, which
    takes minutes on a busy machine; CREATE DATABASE (WAL_LOG strategy) does not."""
    from sqlalchemy import create_engine, text

    base, name = url.rsplit("/", 1)
    driver = base.replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(driver + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    engine = create_engine(driver + "/" + name, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
