"""files: uploads and storage usage

Revision ID: 20261123_10_files
Revises: 20261123_05_integrations
Create Date: 2026-11-23 10:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = "20261123_10_files"
down_revision = "20261123_05_integrations"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "file_uploads",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("organization_id", BigId, sa.ForeignKey("organizations.id", ondelete="CASCADE",
                  name="fk_file_uploads_organization_id_organizations"), nullable=False),
        sa.Column("created_by_id", BigId, sa.ForeignKey("users.id", ondelete="SET NULL",
                  name="fk_file_uploads_created_by_id_users"), nullable=True),
        sa.Column("original_name", sa.String(255), nullable=False),
        sa.Column("storage_key", sa.String(512), nullable=False),
        sa.Column("size", BigId, nullable=False),
        sa.Column("mime_type", sa.String(127), nullable=False),
        sa.Column("file_type", sa.String(24), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("checksum_md5", sa.String(32), nullable=True),
        sa.Column("scan_result", sa.Text(), nullable=True),
        sa.Column("project_id", BigId, sa.ForeignKey("projects.id", ondelete="SET NULL",
                  name="fk_file_uploads_project_id_projects"), nullable=True),
        sa.Column("task_id", BigId, sa.ForeignKey("tasks.id", ondelete="SET NULL",
                  name="fk_file_uploads_task_id_tasks"), nullable=True),
        sa.Column("is_temporary", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_file_uploads_organization_id", "file_uploads", ["organization_id"])
    op.create_index("ix_file_uploads_org_live", "file_uploads", ["organization_id", "deleted_at", "id"])
    op.create_index("ix_file_uploads_expiring", "file_uploads", ["is_temporary", "expires_at"])
    op.create_table(
        "storage_usage",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("organization_id", BigId, sa.ForeignKey("organizations.id", ondelete="CASCADE",
                  name="fk_storage_usage_organization_id_organizations"), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("bytes_used", BigId, nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("last_calculated", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("organization_id", "category", name="uq_storage_usage_organization_id_category"),
    )


def downgrade():
    op.drop_table("storage_usage")
    op.drop_table("file_uploads")
