"""integrations: connections, OAuth states, freee sync, Google Drive files, projects/tasks, sandboxes

Revision ID: 20261123_05_integrations
Revises: 20261123_02_outbound_calls
Create Date: 2026-11-23 09:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "20261123_05_integrations"
down_revision = "20261123_02_outbound_calls"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sandbox_freee_companies",
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_freee_companies")),
        sa.UniqueConstraint("company_id", name=op.f("uq_sandbox_freee_companies_company_id")),
    )
    op.create_table(
        "sandbox_freee_faults",
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("retry_after", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_freee_faults")),
    )
    op.create_table(
        "sandbox_freee_records",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("sort_date", sa.String(length=10), nullable=False),
        sa.Column("updated", sa.String(length=32), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_freee_records")),
    )
    op.create_index(op.f("ix_sandbox_freee_records_company_id"), "sandbox_freee_records", ["company_id"], unique=False)
    op.create_index(op.f("ix_sandbox_freee_records_kind"), "sandbox_freee_records", ["kind"], unique=False)
    op.create_table(
        "sandbox_freee_tokens",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("grant", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_freee_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sandbox_freee_tokens_token_hash")),
    )
    op.create_index(op.f("ix_sandbox_freee_tokens_grant"), "sandbox_freee_tokens", ["grant"], unique=False)
    op.create_table(
        "sandbox_google_drive_faults",
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("retry_after", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_google_drive_faults")),
    )
    op.create_table(
        "sandbox_google_drive_files",
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("file_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("mime_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("created_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_google_drive_files")),
        sa.UniqueConstraint("file_id", name=op.f("uq_sandbox_google_drive_files_file_id")),
    )
    op.create_index(
        op.f("ix_sandbox_google_drive_files_account"), "sandbox_google_drive_files", ["account"], unique=False
    )
    op.create_index(
        op.f("ix_sandbox_google_drive_files_change_seq"), "sandbox_google_drive_files", ["change_seq"], unique=False
    )
    op.create_table(
        "sandbox_google_drive_tokens",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("grant", sa.String(length=32), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("account", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_google_drive_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sandbox_google_drive_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_sandbox_google_drive_tokens_grant"), "sandbox_google_drive_tokens", ["grant"], unique=False
    )
    op.create_table(
        "connections",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("account_name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.String(length=500), nullable=False),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refresh_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disconnected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sync_frequency", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("access_token_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("access_token_iv", sa.LargeBinary(), nullable=True),
        sa.Column("access_token_tag", sa.LargeBinary(), nullable=True),
        sa.Column("access_token_key_id", sa.String(length=16), nullable=True),
        sa.Column("refresh_token_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("refresh_token_iv", sa.LargeBinary(), nullable=True),
        sa.Column("refresh_token_tag", sa.LargeBinary(), nullable=True),
        sa.Column("refresh_token_key_id", sa.String(length=16), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_connections_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_connections_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint(
            "organization_id", "provider", "account_id", name=op.f("uq_connections_organization_id_provider_account_id")
        ),
    )
    op.create_index(op.f("ix_connections_organization_id"), "connections", ["organization_id"], unique=False)
    op.create_index("ix_connections_provider", "connections", ["provider", "status"], unique=False)
    op.create_index("ix_connections_status", "connections", ["status"], unique=False)
    op.create_table(
        "oauth_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("return_to", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_verifier_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("code_verifier_iv", sa.LargeBinary(), nullable=True),
        sa.Column("code_verifier_tag", sa.LargeBinary(), nullable=True),
        sa.Column("code_verifier_key_id", sa.String(length=16), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_oauth_states_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_oauth_states_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oauth_states_state_hash")),
    )
    op.create_index(op.f("ix_oauth_states_created_at"), "oauth_states", ["created_at"], unique=False)
    op.create_table(
        "projects",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_projects_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_projects_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_index(op.f("ix_projects_organization_id"), "projects", ["organization_id"], unique=False)
    op.create_table(
        "drive_sync_logs",
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sync_type", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_drive_sync_logs_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_drive_sync_logs_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_drive_sync_logs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_sync_logs")),
    )
    op.create_index(op.f("ix_drive_sync_logs_connection_id"), "drive_sync_logs", ["connection_id"], unique=False)
    op.create_index(op.f("ix_drive_sync_logs_organization_id"), "drive_sync_logs", ["organization_id"], unique=False)
    op.create_index(op.f("ix_drive_sync_logs_status"), "drive_sync_logs", ["status"], unique=False)
    op.create_table(
        "freee_deals",
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("freee_id", sa.BigInteger(), nullable=False),
        sa.Column("issue_date", sa.String(length=10), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("partner_freee_id", sa.BigInteger(), nullable=True),
        sa.Column("ref_number", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_freee_deals_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_freee_deals_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_freee_deals_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freee_deals")),
        sa.UniqueConstraint("connection_id", "freee_id", name=op.f("uq_freee_deals_connection_id_freee_id")),
    )
    op.create_index(op.f("ix_freee_deals_connection_id"), "freee_deals", ["connection_id"], unique=False)
    op.create_index(op.f("ix_freee_deals_organization_id"), "freee_deals", ["organization_id"], unique=False)
    op.create_table(
        "freee_invoices",
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("freee_id", sa.BigInteger(), nullable=False),
        sa.Column("invoice_number", sa.String(length=64), nullable=True),
        sa.Column("billing_date", sa.String(length=10), nullable=True),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("partner_freee_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("local_invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_freee_invoices_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_freee_invoices_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_freee_invoices_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freee_invoices")),
        sa.UniqueConstraint("connection_id", "freee_id", name=op.f("uq_freee_invoices_connection_id_freee_id")),
    )
    op.create_index(op.f("ix_freee_invoices_connection_id"), "freee_invoices", ["connection_id"], unique=False)
    op.create_index(op.f("ix_freee_invoices_local_invoice_id"), "freee_invoices", ["local_invoice_id"], unique=False)
    op.create_index(op.f("ix_freee_invoices_organization_id"), "freee_invoices", ["organization_id"], unique=False)
    op.create_table(
        "freee_partners",
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("freee_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("freee_updated_at", sa.String(length=32), nullable=True),
        sa.Column("source_organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_freee_partners_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_freee_partners_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_freee_partners_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freee_partners")),
        sa.UniqueConstraint("connection_id", "freee_id", name=op.f("uq_freee_partners_connection_id_freee_id")),
    )
    op.create_index(op.f("ix_freee_partners_connection_id"), "freee_partners", ["connection_id"], unique=False)
    op.create_index(op.f("ix_freee_partners_organization_id"), "freee_partners", ["organization_id"], unique=False)
    op.create_table(
        "freee_sync_jobs",
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("freee_company_id", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("entity_types", sa.JSON(), nullable=False),
        sa.Column("full_sync", sa.Boolean(), nullable=False),
        sa.Column("since_date", sa.Date(), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_freee_sync_jobs_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_freee_sync_jobs_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_freee_sync_jobs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freee_sync_jobs")),
    )
    op.create_index(op.f("ix_freee_sync_jobs_connection_id"), "freee_sync_jobs", ["connection_id"], unique=False)
    op.create_index(op.f("ix_freee_sync_jobs_freee_company_id"), "freee_sync_jobs", ["freee_company_id"], unique=False)
    op.create_index(op.f("ix_freee_sync_jobs_organization_id"), "freee_sync_jobs", ["organization_id"], unique=False)
    op.create_index(op.f("ix_freee_sync_jobs_status"), "freee_sync_jobs", ["status"], unique=False)
    op.create_table(
        "tasks",
        sa.Column("project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_tasks_assignee_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_tasks_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_tasks_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_tasks_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(op.f("ix_tasks_organization_id"), "tasks", ["organization_id"], unique=False)
    op.create_index(op.f("ix_tasks_project_id"), "tasks", ["project_id"], unique=False)
    op.create_table(
        "drive_files",
        sa.Column("connection_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("drive_file_id", sa.String(length=128), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("mime_type", sa.String(length=255), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("web_view_link", sa.String(length=1000), nullable=True),
        sa.Column("thumbnail_link", sa.String(length=1000), nullable=True),
        sa.Column("drive_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drive_modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drive_parent_id", sa.String(length=128), nullable=True),
        sa.Column("project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("task_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_drive_files_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_drive_files_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_drive_files_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_drive_files_project_id_projects"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_drive_files_task_id_tasks"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_files")),
        sa.UniqueConstraint("connection_id", "drive_file_id", name=op.f("uq_drive_files_connection_id_drive_file_id")),
    )
    op.create_index(op.f("ix_drive_files_connection_id"), "drive_files", ["connection_id"], unique=False)
    op.create_index(op.f("ix_drive_files_organization_id"), "drive_files", ["organization_id"], unique=False)
    op.create_index(op.f("ix_drive_files_project_id"), "drive_files", ["project_id"], unique=False)
    op.create_index(op.f("ix_drive_files_task_id"), "drive_files", ["task_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_drive_files_task_id"), table_name="drive_files")
    op.drop_index(op.f("ix_drive_files_project_id"), table_name="drive_files")
    op.drop_index(op.f("ix_drive_files_organization_id"), table_name="drive_files")
    op.drop_index(op.f("ix_drive_files_connection_id"), table_name="drive_files")
    op.drop_table("drive_files")
    op.drop_index(op.f("ix_tasks_project_id"), table_name="tasks")
    op.drop_index(op.f("ix_tasks_organization_id"), table_name="tasks")
    op.drop_table("tasks")
    op.drop_index(op.f("ix_freee_sync_jobs_status"), table_name="freee_sync_jobs")
    op.drop_index(op.f("ix_freee_sync_jobs_organization_id"), table_name="freee_sync_jobs")
    op.drop_index(op.f("ix_freee_sync_jobs_freee_company_id"), table_name="freee_sync_jobs")
    op.drop_index(op.f("ix_freee_sync_jobs_connection_id"), table_name="freee_sync_jobs")
    op.drop_table("freee_sync_jobs")
    op.drop_index(op.f("ix_freee_partners_organization_id"), table_name="freee_partners")
    op.drop_index(op.f("ix_freee_partners_connection_id"), table_name="freee_partners")
    op.drop_table("freee_partners")
    op.drop_index(op.f("ix_freee_invoices_organization_id"), table_name="freee_invoices")
    op.drop_index(op.f("ix_freee_invoices_local_invoice_id"), table_name="freee_invoices")
    op.drop_index(op.f("ix_freee_invoices_connection_id"), table_name="freee_invoices")
    op.drop_table("freee_invoices")
    op.drop_index(op.f("ix_freee_deals_organization_id"), table_name="freee_deals")
    op.drop_index(op.f("ix_freee_deals_connection_id"), table_name="freee_deals")
    op.drop_table("freee_deals")
    op.drop_index(op.f("ix_drive_sync_logs_status"), table_name="drive_sync_logs")
    op.drop_index(op.f("ix_drive_sync_logs_organization_id"), table_name="drive_sync_logs")
    op.drop_index(op.f("ix_drive_sync_logs_connection_id"), table_name="drive_sync_logs")
    op.drop_table("drive_sync_logs")
    op.drop_index(op.f("ix_projects_organization_id"), table_name="projects")
    op.drop_table("projects")
    op.drop_index(op.f("ix_oauth_states_created_at"), table_name="oauth_states")
    op.drop_table("oauth_states")
    op.drop_index("ix_connections_status", table_name="connections")
    op.drop_index("ix_connections_provider", table_name="connections")
    op.drop_index(op.f("ix_connections_organization_id"), table_name="connections")
    op.drop_table("connections")
    op.drop_index(op.f("ix_sandbox_google_drive_tokens_grant"), table_name="sandbox_google_drive_tokens")
    op.drop_table("sandbox_google_drive_tokens")
    op.drop_index(op.f("ix_sandbox_google_drive_files_change_seq"), table_name="sandbox_google_drive_files")
    op.drop_index(op.f("ix_sandbox_google_drive_files_account"), table_name="sandbox_google_drive_files")
    op.drop_table("sandbox_google_drive_files")
    op.drop_table("sandbox_google_drive_faults")
    op.drop_index(op.f("ix_sandbox_freee_tokens_grant"), table_name="sandbox_freee_tokens")
    op.drop_table("sandbox_freee_tokens")
    op.drop_index(op.f("ix_sandbox_freee_records_kind"), table_name="sandbox_freee_records")
    op.drop_index(op.f("ix_sandbox_freee_records_company_id"), table_name="sandbox_freee_records")
    op.drop_table("sandbox_freee_records")
    op.drop_table("sandbox_freee_faults")
    op.drop_table("sandbox_freee_companies")
