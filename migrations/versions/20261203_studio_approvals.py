"""studio: approvals — per-organization Studio settings ("posts by members need approval") and the
approval state of a post

Revision ID: 20261203_studio_approvals
Revises: 20261203_webhooks_out
Create Date: 2026-12-03 11:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261203_studio_approvals"
down_revision = "20261203_webhooks_out"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "studio_org_settings",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("approval_required", sa.Boolean(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_studio_org_settings_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_org_settings")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_studio_org_settings_organization_id")),
    )
    with op.batch_alter_table("studio_posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approval", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("approval_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("approval_by_id", BIGID, nullable=True))
        batch_op.add_column(sa.Column("approval_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("submitted_by_id", BIGID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_studio_posts_approval_by_id_users"), "users", ["approval_by_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_studio_posts_submitted_by_id_users"),
            "users",
            ["submitted_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("studio_posts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_studio_posts_submitted_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_studio_posts_approval_by_id_users"), type_="foreignkey")
        batch_op.drop_column("submitted_by_id")
        batch_op.drop_column("approval_at")
        batch_op.drop_column("approval_by_id")
        batch_op.drop_column("approval_comment")
        batch_op.drop_column("approval")
    op.drop_table("studio_org_settings")
