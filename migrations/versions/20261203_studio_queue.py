"""studio: the posting queue — weekly posting times per organization (or platform account), queued
posts, pausing the queue

Revision ID: 20261203_studio_queue
Revises: 20261203_studio_approvals
Create Date: 2026-12-03 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261203_studio_queue"
down_revision = "20261203_studio_approvals"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "studio_queue_slots",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("connection_id", BIGID, nullable=True),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_studio_queue_slots_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_studio_queue_slots_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_queue_slots")),
    )
    with op.batch_alter_table("studio_queue_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_studio_queue_slots_organization_id"), ["organization_id"], unique=False)
    with op.batch_alter_table("studio_org_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_paused", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("studio_posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queued", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("studio_posts", schema=None) as batch_op:
        batch_op.drop_column("queued")
    with op.batch_alter_table("studio_org_settings", schema=None) as batch_op:
        batch_op.drop_column("queue_paused")
    with op.batch_alter_table("studio_queue_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studio_queue_slots_organization_id"))
    op.drop_table("studio_queue_slots")
