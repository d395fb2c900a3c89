"""jobs: a lease on every run row a job drives (owner, expiry, how often its worker died)

Revision ID: 20261203_jobs_leases
Revises: 20261202_security_recovery
Create Date: 2026-12-03 10:00:00

Publish targets already had an owner (``claim_token``); they gain the expiry and the count. A target
ACTIVE at upgrade time gets the expiry its old sweep would have used (claimed_at + 30 minutes). Runs
RUNNING (and files waiting for their scan) at upgrade time get a lease that ends an hour later, owned
by ``before-leases``: a worker of the previous release still on it has the hour to finish, and a run
orphaned before the upgrade is then swept like any other, instead of staying RUNNING for ever.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "20261203_jobs_leases"
down_revision = "20261202_security_recovery"
branch_labels = None
depends_on = None

TABLES = ("workflow_runs", "freee_sync_jobs", "drive_sync_logs", "billing_runs", "file_uploads")


def _expiry_columns(batch_op, table):
    batch_op.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))
    batch_op.add_column(sa.Column("lease_expiries", sa.Integer(), server_default="0", nullable=False))
    batch_op.create_index(batch_op.f(f"ix_{table}_lease_expires_at"), ["lease_expires_at"], unique=False)


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
            _expiry_columns(batch_op, table)
    with op.batch_alter_table("studio_publish_jobs", schema=None) as batch_op:
        _expiry_columns(batch_op, "studio_publish_jobs")
    jobs = sa.table(
        "studio_publish_jobs",
        sa.column("status", sa.String),
        sa.column("claimed_at", sa.DateTime(timezone=True)),
        sa.column("lease_expires_at", sa.DateTime(timezone=True)),
    )
    grace = datetime.now(UTC) + timedelta(hours=1)
    for table in TABLES:
        rows = sa.table(
            table,
            sa.column("status", sa.String),
            sa.column("lease_owner", sa.String),
            sa.column("lease_expires_at", sa.DateTime(timezone=True)),
        )
        busy = "VIRUS_SCAN_PENDING" if table == "file_uploads" else "RUNNING"
        orphan_or_old_worker = {"lease_owner": "before-leases", "lease_expires_at": grace}
        op.execute(rows.update().where(rows.c.status == busy).values(**orphan_or_old_worker))
    rows = op.get_bind().execute(sa.select(jobs.c.claimed_at).where(jobs.c.status == "ACTIVE").distinct()).all()
    for (claimed_at,) in rows:
        if claimed_at is not None:
            op.execute(
                jobs.update()
                .where(jobs.c.status == "ACTIVE", jobs.c.claimed_at == claimed_at)
                .values(lease_expires_at=claimed_at + timedelta(minutes=30))
            )


def downgrade():
    for table in (*TABLES, "studio_publish_jobs"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_lease_expires_at"))
            batch_op.drop_column("lease_expiries")
            batch_op.drop_column("lease_expires_at")
            if table != "studio_publish_jobs":
                batch_op.drop_column("lease_owner")
