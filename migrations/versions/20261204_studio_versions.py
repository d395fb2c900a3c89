"""studio: per-platform versions — saved hashtag groups per organization (the per-platform caption,
hashtags, TikTok settings, YouTube title/description/tags and Instagram first comment live in each
target's options); a job outbox row may go to the front of its queue (a publish target's next step)

Revision ID: 20261204_studio_versions
Revises: 20261204_studio_media
Create Date: 2026-12-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261204_studio_versions"
down_revision = "20261204_studio_media"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "studio_hashtag_groups",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("hashtags", sa.JSON(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_studio_hashtag_groups_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_studio_hashtag_groups_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_hashtag_groups")),
        sa.UniqueConstraint("organization_id", "name", name=op.f("uq_studio_hashtag_groups_organization_id_name")),
    )
    with op.batch_alter_table("studio_hashtag_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_studio_hashtag_groups_organization_id"), ["organization_id"], unique=False)
    with op.batch_alter_table("job_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("at_front", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("job_outbox", schema=None) as batch_op:
        batch_op.drop_column("at_front")
    with op.batch_alter_table("studio_hashtag_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studio_hashtag_groups_organization_id"))
    op.drop_table("studio_hashtag_groups")
