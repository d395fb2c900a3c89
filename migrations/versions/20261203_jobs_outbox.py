"""jobs: the outbox table (a job is written in the transaction of the change that asks for it and
moved to RQ by a relay, so a Redis outage delays jobs and loses none)

Revision ID: 20261203_jobs_outbox
Revises: 20261203_jobs_leases
Create Date: 2026-12-03 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261203_jobs_outbox"
down_revision = "20261203_jobs_leases"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "job_outbox",
        sa.Column("id", BigId, nullable=False),
        sa.Column("func", sa.String(length=255), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("kwargs", sa.JSON(), nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("job_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_outbox")),
    )
    op.create_index(op.f("ix_job_outbox_dispatched_at"), "job_outbox", ["dispatched_at"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_job_outbox_dispatched_at"), table_name="job_outbox")
    op.drop_table("job_outbox")
