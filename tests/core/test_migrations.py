"""The migrations build exactly the schema the models describe (on whichever database the suite runs)."""

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.conftest import DATABASE_URL
from tests.servers import ROOT, child_env
from webapp.extensions import db


def _relevant(diff) -> bool:
    # Server defaults added in migrations for existing rows and type spelling differences SQLite reports
    # are not drift; anything else (a missing table, column, index or constraint) is.
    kind = diff[0][0] if isinstance(diff, list) else diff[0]
    return kind not in {"modify_default", "modify_type", "modify_comment"}


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = [d for d in compare_metadata(context, db.metadata) if _relevant(d)]
    assert diffs == [], "models and migrations disagree:\n" + "\n".join(map(str, diffs))


# ---- the squashed chain (migrations/env.py carries a database at its head over to the baseline)

BASELINE = "20261206_baseline"
SQUASHED_HEAD = "20261205_i18n_locale"
STAMPED_SCHEMA = "stamped_by_hand"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stamped_database(request, tmp_path):
    """An empty database of either kind holding only a version table, and a way to stamp it by hand. On
    PostgreSQL a schema of its own in the suite's database stands for the database (creating a database
    waits for a checkpoint)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'stamped.sqlite3'}"
    else:
        suite = create_engine(DATABASE_URL)
        with suite.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {STAMPED_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {STAMPED_SCHEMA}"))
        suite.dispose()
        url = make_url(DATABASE_URL).update_query_dict({"options": f"-csearch_path={STAMPED_SCHEMA}"})
        url = url.render_as_string(hide_password=False)
    engine = create_engine(url)

    def stamp(revision: str) -> None:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
            conn.execute(text("DELETE FROM alembic_version"))
            conn.execute(text("INSERT INTO alembic_version VALUES (:revision)"), {"revision": revision})

    def state() -> tuple[list[str], list[str]]:
        with engine.connect() as conn:
            versions = list(conn.scalars(text("SELECT version_num FROM alembic_version")))
            return versions, sorted(inspect(conn).get_table_names())

    yield url, stamp, state
    if request.param == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {STAMPED_SCHEMA} CASCADE"))
    engine.dispose()


def _flask_db_upgrade(url: str, tmp_path) -> subprocess.CompletedProcess:
    """`flask db upgrade` as bin/run runs it (to the baseline, so revisions added after it stay out)."""
    env = child_env(
        FLASK_APP="wsgi.py", DATABASE_URL=url, INSTANCE_PATH=str(tmp_path / "instance"), JOBS_BACKEND="inline"
    )
    return subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade", BASELINE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_database_at_the_squashed_chains_head_is_stamped_with_the_baseline(stamped_database, tmp_path):
    url, stamp, state = stamped_database
    stamp(SQUASHED_HEAD)
    result = _flask_db_upgrade(url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"The database was at {SQUASHED_HEAD}" in result.stderr
    # Stamped, and nothing ran: the chain's head already has the baseline's schema.
    assert state() == ([BASELINE], ["alembic_version"])


def test_a_database_stopped_earlier_in_the_squashed_chain_is_refused_with_what_to_do(stamped_database, tmp_path):
    url, stamp, state = stamped_database
    stamp("20261204_ai_results")
    result = _flask_db_upgrade(url, tmp_path)
    assert result.returncode == 1
    assert "This database is at revision 20261204_ai_results, which was squashed into 20261206_baseline" in (
        result.stderr
    )
    assert "reset it: delete instance/tessera.sqlite3" in result.stderr and "run `make run` again" in result.stderr
    assert "Traceback" not in result.stderr
    assert state() == (["20261204_ai_results"], ["alembic_version"])


def test_a_database_of_later_revisions_is_left_alone(stamped_database, tmp_path):
    url, stamp, state = stamped_database
    stamp(BASELINE)
    result = _flask_db_upgrade(url, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "The database was at" not in result.stderr
    assert state() == ([BASELINE], ["alembic_version"])


@pytest.mark.postgres
def test_the_baseline_creates_what_the_models_cannot_say(app):
    """The suite's database comes from the migrations: the triggers, the exclusion constraint and the
    partitioned history tables are there (tests/core/test_partitions.py covers the partitions' upkeep)."""
    with app.app_context(), db.engine.connect() as conn:
        triggers = set(conn.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgparentid = 0")))
        assert {
            "audit_entries_append_only",
            "billing_invoices_immutable",
            "billing_invoice_lines_immutable",
            "billing_credit_notes_immutable",
            "billing_credit_note_lines_immutable",
        } <= triggers
        exclusion = conn.scalar(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conname = 'ex_billing_billed_periods_live_overlap'"
            )
        )
        assert exclusion.startswith("EXCLUDE USING gist (billable_key WITH =, daterange(start_date, end_date")
        partitioned = dict(
            conn.execute(
                text(
                    "SELECT c.relname, pg_get_partkeydef(c.oid) FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'p' AND n.nspname = 'public'"
                )
            ).all()
        )
        assert partitioned == {
            "audit_entries": "RANGE (created_at)",
            "email_messages": "RANGE (created_at)",
            "outbound_calls": "RANGE (created_at)",
            "usage_events": 'RANGE ("timestamp")',
        }
        defaults = set(
            conn.scalars(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                    " WHERE pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'"
                )
            )
        )
        assert defaults == {f"{table}_default" for table in partitioned}
