"""studio: media — videos and thumbnail bytes counted in storage (existing videos counted now), indexes
for the retention of publish attempts and metric snapshots

Revision ID: 20261204_studio_media
Revises: 20261204_drive_folders
Create Date: 2026-12-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261204_studio_media"
down_revision = "20261204_drive_folders"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table("studio_videos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thumbnail_size", BIGID, nullable=False, server_default="0"))
    with op.batch_alter_table("studio_publish_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_studio_publish_attempts_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("studio_metric_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_studio_metric_snapshots_post_taken", ["published_post_id", "taken_at"], unique=False)
    # Videos uploaded before now enter the storage figures (thumbnails are measured by a daily job).
    op.execute(
        "INSERT INTO storage_usage (organization_id, category, bytes_used, file_count, last_calculated) "
        "SELECT organization_id, 'studio_videos', SUM(file_size), COUNT(*), CURRENT_TIMESTAMP "
        "FROM studio_videos GROUP BY organization_id"
    )


def downgrade():
    op.execute("DELETE FROM storage_usage WHERE category = 'studio_videos'")
    with op.batch_alter_table("studio_metric_snapshots", schema=None) as batch_op:
        batch_op.drop_index("ix_studio_metric_snapshots_post_taken")
    with op.batch_alter_table("studio_publish_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_studio_publish_attempts_created_at")
    with op.batch_alter_table("studio_videos", schema=None) as batch_op:
        batch_op.drop_column("thumbnail_size")
