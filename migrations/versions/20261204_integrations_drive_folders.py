"""integrations + referrals: Drive root/project folders, links and flags, cached content, unlink;
referral invitations that expire (the address unique only among live referrals), canceled payouts

Revision ID: 20261204_drive_folders
Revises: 20261204_orgs_suspend_avatars
Create Date: 2026-12-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261204_drive_folders"
down_revision = "20261204_orgs_suspend_avatars"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LIVE = sa.text("status <> 'EXPIRED'")


def upgrade():
    with op.batch_alter_table("drive_files") as batch:
        batch.add_column(sa.Column("web_content_link", sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column("is_public", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("can_edit", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("can_share", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("unlinked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("cache_upload_id", BIGID, nullable=True))
        batch.add_column(sa.Column("cache_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            op.f("fk_drive_files_cache_upload_id_file_uploads"),
            "file_uploads",
            ["cache_upload_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("drive_files") as batch:
        batch.alter_column("is_public", server_default=None)
        batch.alter_column("can_edit", server_default=None)
        batch.alter_column("can_share", server_default=None)

    op.create_table(
        "drive_project_folders",
        sa.Column("connection_id", BIGID, nullable=False),
        sa.Column("project_id", BIGID, nullable=False),
        sa.Column("folder_id", sa.String(length=128), nullable=False),
        sa.Column("folder_name", sa.String(length=500), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_drive_project_folders_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_drive_project_folders_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_drive_project_folders_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_drive_project_folders_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_project_folders")),
        sa.UniqueConstraint(
            "connection_id", "project_id", name=op.f("uq_drive_project_folders_connection_id_project_id")
        ),
    )
    for column in ("connection_id", "project_id", "organization_id"):
        op.create_index(op.f(f"ix_drive_project_folders_{column}"), "drive_project_folders", [column])

    with op.batch_alter_table("referrals") as batch:
        batch.add_column(sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint("uq_referrals_referee_email", type_="unique")
    op.create_index(
        "uq_referrals_live_email",
        "referrals",
        ["referee_email"],
        unique=True,
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )
    with op.batch_alter_table("referral_payouts") as batch:
        batch.add_column(sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("referral_payouts") as batch:
        batch.drop_column("canceled_at")
    op.drop_index("uq_referrals_live_email", table_name="referrals")
    # Expired invitations would break the address-unique-for-ever rule: drop them first.
    op.execute("DELETE FROM referrals WHERE status = 'EXPIRED'")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("expired_at")
        batch.create_unique_constraint("uq_referrals_referee_email", ["referee_email"])
    for column in ("connection_id", "project_id", "organization_id"):
        op.drop_index(op.f(f"ix_drive_project_folders_{column}"), table_name="drive_project_folders")
    op.drop_table("drive_project_folders")
    with op.batch_alter_table("drive_files") as batch:
        batch.drop_constraint(op.f("fk_drive_files_cache_upload_id_file_uploads"), type_="foreignkey")
        for column in (
            "cache_expires_at",
            "cache_upload_id",
            "unlinked_at",
            "synced_at",
            "can_share",
            "can_edit",
            "is_public",
            "web_content_link",
        ):
            batch.drop_column(column)
