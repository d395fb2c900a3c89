"""ai: stored task proposals and AI reports (project, document, workflow analyses); notifications:
the daily digest setting and the record of digests sent; caption suggestions get their own AI service
name (usage rows, ledger rows and the prompt move from TASK_GENERATION to CAPTION_SUGGESTIONS)

Revision ID: 20261204_ai_services
Revises: 20261204_studio_versions
Create Date: 2026-12-03 15:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261204_ai_services"
down_revision = "20261204_studio_versions"
branch_labels = None
depends_on = None


def _move_caption_rows(old: str, new: str) -> None:
    op.execute(
        sa.text(
            "UPDATE ai_usage_logs SET service = :new WHERE service = :old AND operation = 'caption_suggestion'"
        ).bindparams(old=old, new=new)
    )
    op.execute(
        sa.text(
            "UPDATE ai_credit_transactions SET service = :new WHERE service = :old "
            "AND description LIKE 'caption_suggestion%'"
        ).bindparams(old=old, new=new)
    )
    op.execute(
        sa.text(
            "UPDATE ai_prompt_templates SET service = :new WHERE service = :old AND key = 'caption_suggestion'"
        ).bindparams(old=old, new=new)
    )


def upgrade():
    op.create_table(
        "notification_digest_settings",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_digest_settings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_digest_settings")),
        sa.UniqueConstraint("user_id", name=op.f("uq_notification_digest_settings_user_id")),
    )
    op.create_table(
        "notification_digests",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("notification_count", sa.Integer(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("ai_written", sa.Boolean(), nullable=False),
        sa.Column("email_message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_digests_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_digests")),
        sa.UniqueConstraint("user_id", "day", name=op.f("uq_notification_digests_user_id_day")),
    )
    op.create_table(
        "ai_reports",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("usage_log_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("credits_used", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_ai_reports_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_ai_reports_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["usage_log_id"],
            ["ai_usage_logs.id"],
            name=op.f("fk_ai_reports_usage_log_id_ai_usage_logs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_reports")),
    )
    with op.batch_alter_table("ai_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ai_reports_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index("ix_ai_reports_subject", ["organization_id", "kind", "subject_id", "id"], unique=False)

    op.create_table(
        "ai_task_proposals",
        sa.Column("project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("tasks", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source_report_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("usage_log_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_task_ids", sa.JSON(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_ai_task_proposals_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_ai_task_proposals_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_ai_task_proposals_project_id_projects"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["source_report_id"],
            ["ai_reports.id"],
            name=op.f("fk_ai_task_proposals_source_report_id_ai_reports"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["usage_log_id"],
            ["ai_usage_logs.id"],
            name=op.f("fk_ai_task_proposals_usage_log_id_ai_usage_logs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_task_proposals")),
    )
    with op.batch_alter_table("ai_task_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ai_task_proposals_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ai_task_proposals_project_id"), ["project_id"], unique=False)

    _move_caption_rows("TASK_GENERATION", "CAPTION_SUGGESTIONS")


def downgrade():
    _move_caption_rows("CAPTION_SUGGESTIONS", "TASK_GENERATION")
    with op.batch_alter_table("ai_task_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ai_task_proposals_project_id"))
        batch_op.drop_index(batch_op.f("ix_ai_task_proposals_organization_id"))

    op.drop_table("ai_task_proposals")
    with op.batch_alter_table("ai_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_ai_reports_subject")
        batch_op.drop_index(batch_op.f("ix_ai_reports_organization_id"))

    op.drop_table("ai_reports")
    op.drop_table("notification_digests")
    op.drop_table("notification_digest_settings")
