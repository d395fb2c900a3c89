"""baseline: the whole schema in one revision

Revision ID: 20261206_baseline
Revises:
Create Date: 2026-12-06 00:00:00

The chain that grew while the domains were built side by side (``20261202_01_baseline`` to
``20261205_i18n_locale``) was squashed into this revision while no production database existed.
It creates exactly the schema that chain ended with (the same tables, column order, names,
defaults, triggers and partitions: ``pg_dump --schema-only`` of both is the same), grouped by
domain; the chain's data backfills are gone, as there was no data to fill. A database stamped
with the chain's head is stamped with this revision when migrations run (``migrations/env.py``);
one stopped earlier in the chain is refused with what to do. New revisions follow this one
(docs/architecture.md, "Migrations").

On PostgreSQL this revision also creates what the models cannot say: the audit log's append-only
trigger, the triggers that keep finalized invoices and issued credit notes unchanged, the
exclusion constraint that bills a period of a billable thing at most once (btree_gist), and the
four history tables range-partitioned by month, with their partitions in the ``history`` schema
(docs/partitioning.md). SQLite stays unpartitioned and has none of them; it does have the three
foreign keys the chain never added there (LATE_FOREIGN_KEYS), as the models say.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "20261206_baseline"
down_revision = None
branch_labels = None
depends_on = None

# The revisions this one replaced. A database stamped with the last of the chain (``squashed_head``) has
# this revision's schema and is stamped with it when migrations run (migrations/env.py); one stamped
# with any other is refused with what to do.
squashed_head = "20261205_i18n_locale"
squashes = frozenset(
    {
        # the chain that ended at squashed_head
        "20261202_01_baseline", "20261202_streams_sandboxes_out", "20261202_payments_credit_notes",
        "20261202_security_recovery", "20261203_jobs_leases", "20261203_jobs_outbox",
        "20261203_billing_billed_periods", "20261203_webhooks_out", "20261203_studio_approvals",
        "20261203_studio_queue", "20261204_billing_coupons", "20261204_orgs_suspend_avatars",
        "20261204_drive_folders", "20261204_studio_media", "20261204_studio_versions", "20261204_ai_services",
        "20261204_orgs_address", "20261204_ai_results", "20261205_history_partitions", "20261205_i18n_locale",
        # the per-domain revisions squashed into 20261202_01_baseline before it
        "20261123_01_foundation", "20261123_02_outbound_calls", "20261123_03_billing", "20261123_04_subscriptions",
        "20261123_05_integrations", "20261123_06_studio", "20261123_07_support", "20261123_08_workflows",
        "20261123_09_referrals", "20261123_10_files", "20261123_11_task_description", "20261123_12_merge_domains",
        "20261123_13_freee_export",
    }
)  # fmt: skip

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only
WHEN = sa.DateTime(timezone=True)


def fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    """table.column references target.id, under the name the models' naming convention gives it."""
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


HISTORY_SCHEMA = "history"
MONTHS_AHEAD = 3  # as webapp/core/partitions.py keeps them; last month exists too (late usage events)


def postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


# ---- PostgreSQL: history partitions (docs/partitioning.md)


def history_primary_key(table: str, column: str) -> sa.PrimaryKeyConstraint:
    """PostgreSQL wants the partition key in the primary key; ids still come from one sequence."""
    columns = ("id", column) if postgres() else ("id",)
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def _month(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


def _bound(moment: datetime) -> str:
    return f"'{moment:%Y-%m-%d %H:%M:%S}+00'"


def create_partitions(table: str) -> None:
    """Last month to MONTHS_AHEAD months ahead, and a DEFAULT partition for anything outside them."""
    if not postgres():
        return
    this_month = _month(datetime.now(UTC))
    month, last = _month(this_month - timedelta(days=1)), this_month
    for _ in range(MONTHS_AHEAD):
        last = _next(last)
    while month <= last:
        op.execute(
            f'CREATE TABLE {HISTORY_SCHEMA}."{table}_{month:%Y_%m}" PARTITION OF "{table}"'
            f" FOR VALUES FROM ({_bound(month)}) TO ({_bound(_next(month))})"
        )
        month = _next(month)
    op.execute(f'CREATE TABLE {HISTORY_SCHEMA}."{table}_default" PARTITION OF "{table}" DEFAULT')


# ---- PostgreSQL: triggers and constraints the models cannot say

AUDIT_APPEND_ONLY = """
CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_entries is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only();
"""

# Columns of a finalized invoice that never change (DESIGN §1).
INVOICE_FROZEN = (
    "number", "organization_id", "account_id", "subscription_id", "currency", "period_start", "period_end",
    "subtotal", "tax_rate_bps", "tax", "total", "issued_at", "due_at", "finalized_at",
)  # fmt: skip

INVOICE_IMMUTABLE = """
CREATE OR REPLACE FUNCTION billing_invoice_immutable() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF OLD.finalized_at IS NOT NULL AND pg_trigger_depth() < 2 THEN
      RAISE EXCEPTION 'invoice % is finalized and cannot be deleted', OLD.number USING ERRCODE = 'check_violation';
    END IF;
    RETURN OLD;
  END IF;
  IF OLD.finalized_at IS NOT NULL AND ({changed}) THEN
    RAISE EXCEPTION 'invoice % is finalized; its number, dates, currency and amounts cannot change', OLD.number
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoices_immutable BEFORE UPDATE OR DELETE ON billing_invoices
  FOR EACH ROW EXECUTE FUNCTION billing_invoice_immutable();

CREATE OR REPLACE FUNCTION billing_invoice_line_immutable() RETURNS trigger AS $$
DECLARE
  fin timestamptz;
BEGIN
  IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
    RETURN OLD;  -- cascading from the invoice or organization
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT finalized_at INTO fin FROM billing_invoices WHERE id = OLD.invoice_id;
    IF fin IS NOT NULL THEN
      RAISE EXCEPTION 'the lines of a finalized invoice cannot change' USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    SELECT finalized_at INTO fin FROM billing_invoices WHERE id = NEW.invoice_id;
    IF fin IS NOT NULL THEN
      RAISE EXCEPTION 'the lines of a finalized invoice cannot change' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END IF;
  RETURN OLD;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER billing_invoice_lines_immutable BEFORE INSERT OR UPDATE OR DELETE ON billing_invoice_lines
  FOR EACH ROW EXECUTE FUNCTION billing_invoice_line_immutable();
"""

# Columns of an issued credit note that never change; its lines never change at all.
CREDIT_NOTE_FROZEN = (
    "number", "organization_id", "account_id", "invoice_id", "currency", "subtotal", "tax", "total", "reason",
    "destination", "issued_at",
)  # fmt: skip

CREDIT_NOTE_IMMUTABLE = """
CREATE OR REPLACE FUNCTION billing_credit_note_immutable() RETURNS trigger AS $$
BEGIN
  IF pg_trigger_depth() > 1 THEN
    RETURN COALESCE(NEW, OLD);  -- cascading from the organization, invoice or refund
  END IF;
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'credit note % is issued and cannot be deleted', OLD.number USING ERRCODE = 'check_violation';
  END IF;
  IF ({changed}) THEN
    RAISE EXCEPTION 'credit note % is issued; its number, amounts and reason cannot change', OLD.number
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER billing_credit_notes_immutable BEFORE UPDATE OR DELETE ON billing_credit_notes
  FOR EACH ROW EXECUTE FUNCTION billing_credit_note_immutable();

CREATE OR REPLACE FUNCTION billing_credit_note_line_immutable() RETURNS trigger AS $$
BEGIN
  IF pg_trigger_depth() > 1 THEN
    RETURN COALESCE(NEW, OLD);
  END IF;
  RAISE EXCEPTION 'the lines of an issued credit note cannot change' USING ERRCODE = 'check_violation';
END $$ LANGUAGE plpgsql;

CREATE TRIGGER billing_credit_note_lines_immutable BEFORE UPDATE OR DELETE ON billing_credit_note_lines
  FOR EACH ROW EXECUTE FUNCTION billing_credit_note_line_immutable();
"""


def frozen(trigger_sql: str, columns: tuple[str, ...]) -> str:
    """The trigger's SQL, refusing a change to any of these columns."""
    return trigger_sql.replace("{changed}", " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns))


# Two live rows (released_at NULL) of one billable key never overlap: no race bills a day twice.
BILLED_ONCE = """
ALTER TABLE billing_billed_periods ADD CONSTRAINT ex_billing_billed_periods_live_overlap
  EXCLUDE USING gist (billable_key WITH =, daterange(start_date, end_date, '[]') WITH &&)
  WHERE (released_at IS NULL)
"""

# Foreign keys that close a cycle (a user's avatar is a file an organization's member uploaded) or that the
# chain added later. PostgreSQL adds them once file_uploads exists; SQLite, which cannot add a constraint
# to an existing table and accepts a reference to a table created later, has them in CREATE TABLE. (The
# chain left them out on SQLite, where the models-and-migrations test therefore failed.)
LATE_FOREIGN_KEYS = (
    ("organizations", "suspended_by_id", "users"),
    ("organizations", "logo_file_id", "file_uploads"),
    ("users", "avatar_file_id", "file_uploads"),
)


def sqlite_late_foreign_keys(table: str) -> list[sa.ForeignKeyConstraint]:
    if postgres():
        return []
    return [fk(name, column, target, "SET NULL") for name, column, target in LATE_FOREIGN_KEYS if name == table]


def create_auth_tables():
    """People: accounts, their sign-in sessions, one-time tokens and second-factor recovery codes."""
    op.create_table(
        "users",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("email_verified_at", WHEN, nullable=True),
        sa.Column("is_staff", sa.Boolean(), nullable=False),
        sa.Column("suspended_at", WHEN, nullable=True),
        sa.Column("last_login_at", WHEN, nullable=True),
        sa.Column("totp_enabled_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("totp_secret_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("totp_secret_iv", sa.LargeBinary(), nullable=True),
        sa.Column("totp_secret_tag", sa.LargeBinary(), nullable=True),
        sa.Column("totp_secret_key_id", sa.String(length=16), nullable=True),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("avatar_file_id", BIGID, nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        *sqlite_late_foreign_keys("users"),
    )
    op.create_table(
        "auth_tokens",
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("auth_tokens", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_tokens_token_hash")),
    )
    op.create_index(op.f("ix_auth_tokens_user_id"), "auth_tokens", ["user_id"])
    op.create_table(
        "user_recovery_codes",
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("user_recovery_codes", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_user_recovery_codes_code_hash")),
    )
    op.create_index(op.f("ix_user_recovery_codes_user_id"), "user_recovery_codes", ["user_id"])
    op.create_table(
        "user_sessions",
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("user_sessions", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])


def create_orgs_tables():
    """Organizations, who belongs to them and the invitations to join."""
    op.create_table(
        "organizations",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("is_personal", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("suspended_at", WHEN, nullable=True),
        sa.Column("suspended_reason", sa.Text(), nullable=True),
        sa.Column("suspended_by_id", BIGID, nullable=True),
        sa.Column("logo_file_id", BIGID, nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("address_line", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("postal_code", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        *sqlite_late_foreign_keys("organizations"),
        sa.UniqueConstraint("slug", name=op.f("uq_organizations_slug")),
    )
    op.create_table(
        "invitations",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by_id", BIGID, nullable=True),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("accepted_at", WHEN, nullable=True),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("invitations", "invited_by_id", "users", "SET NULL"),
        fk("invitations", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index(op.f("ix_invitations_organization_id"), "invitations", ["organization_id"])
    op.create_table(
        "memberships",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("memberships", "organization_id", "organizations", "CASCADE"),
        fk("memberships", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint("organization_id", "user_id", name=op.f("uq_memberships_organization_id_user_id")),
    )
    op.create_index(op.f("ix_memberships_user_id"), "memberships", ["user_id"])


def create_projects_tables():
    """Projects and their tasks."""
    op.create_table(
        "projects",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("projects", "created_by_id", "users", "SET NULL"),
        fk("projects", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_index(op.f("ix_projects_organization_id"), "projects", ["organization_id"])
    op.create_table(
        "tasks",
        sa.Column("project_id", BIGID, nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("assignee_id", BIGID, nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("tasks", "assignee_id", "users", "SET NULL"),
        fk("tasks", "created_by_id", "users", "SET NULL"),
        fk("tasks", "organization_id", "organizations", "CASCADE"),
        fk("tasks", "project_id", "projects", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(op.f("ix_tasks_organization_id"), "tasks", ["organization_id"])
    op.create_index(op.f("ix_tasks_project_id"), "tasks", ["project_id"])


def create_files_tables():
    """Uploaded files and each organization's storage figures."""
    op.create_table(
        "file_uploads",
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("size", BIGID, nullable=False),
        sa.Column("mime_type", sa.String(length=127), nullable=False),
        sa.Column("file_type", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("checksum_md5", sa.String(length=32), nullable=True),
        sa.Column("scan_result", sa.Text(), nullable=True),
        sa.Column("project_id", BIGID, nullable=True),
        sa.Column("task_id", BIGID, nullable=True),
        sa.Column("is_temporary", sa.Boolean(), nullable=False),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.Column("deleted_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", WHEN, nullable=True),
        sa.Column("lease_expiries", sa.Integer(), server_default="0", nullable=False),
        fk("file_uploads", "created_by_id", "users", "SET NULL"),
        fk("file_uploads", "organization_id", "organizations", "CASCADE"),
        fk("file_uploads", "project_id", "projects", "SET NULL"),
        fk("file_uploads", "task_id", "tasks", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_uploads")),
    )
    op.create_index("ix_file_uploads_expiring", "file_uploads", ["is_temporary", "expires_at"])
    op.create_index(op.f("ix_file_uploads_lease_expires_at"), "file_uploads", ["lease_expires_at"])
    op.create_index("ix_file_uploads_org_live", "file_uploads", ["organization_id", "deleted_at", "id"])
    op.create_index(op.f("ix_file_uploads_organization_id"), "file_uploads", ["organization_id"])
    op.create_table(
        "storage_usage",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("bytes_used", BIGID, nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("last_calculated", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("storage_usage", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_usage")),
        sa.UniqueConstraint("organization_id", "category", name=op.f("uq_storage_usage_organization_id_category")),
    )
    if postgres():
        for table, column, target in LATE_FOREIGN_KEYS:
            op.create_foreign_key(
                op.f(f"fk_{table}_{column}_{target}"), table, target, [column], ["id"], ondelete="SET NULL"
            )


def create_settings_tables():
    """System settings staff change at run time."""
    op.create_table(
        "system_settings",
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_by_id", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("system_settings", "updated_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_settings")),
        sa.UniqueConstraint("key", name=op.f("uq_system_settings_key")),
    )


def create_audit_tables():
    """The audit log: append-only, partitioned by month on PostgreSQL."""
    # Partitioned by month on PostgreSQL, hence the primary key (id, created_at) there.
    op.create_table(
        "audit_entries",
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", BIGID, nullable=True),
        sa.Column("actor_label", sa.String(length=254), nullable=False),
        sa.Column("organization_id", BIGID, nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=True),
        sa.Column("entity_id", BIGID, nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        fk("audit_entries", "organization_id", "organizations", "SET NULL"),
        history_primary_key("audit_entries", "created_at"),
        postgresql_partition_by="RANGE (created_at)",
    )
    op.create_index("ix_audit_entries_action_id", "audit_entries", ["action", "id"])
    op.create_index(op.f("ix_audit_entries_created_at"), "audit_entries", ["created_at"])
    op.create_index("ix_audit_entries_entity", "audit_entries", ["entity_type", "entity_id"])
    op.create_index("ix_audit_entries_org_id", "audit_entries", ["organization_id", "id"])
    create_partitions("audit_entries")
    if postgres():
        op.execute(AUDIT_APPEND_ONLY)


def create_mail_tables():
    """The e-mail log: partitioned by month on PostgreSQL."""
    op.create_table(
        "email_messages",
        sa.Column("organization_id", BIGID, nullable=True),
        sa.Column("user_id", BIGID, nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("template", sa.String(length=128), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("live_body_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("live_body_iv", sa.LargeBinary(), nullable=True),
        sa.Column("live_body_tag", sa.LargeBinary(), nullable=True),
        sa.Column("live_body_key_id", sa.String(length=16), nullable=True),
        sa.Column("failed_at", WHEN, nullable=True),
        sa.Column("about_type", sa.String(length=64), nullable=True),
        sa.Column("about_id", BIGID, nullable=True),
        fk("email_messages", "organization_id", "organizations", "SET NULL"),
        fk("email_messages", "user_id", "users", "SET NULL"),
        history_primary_key("email_messages", "created_at"),
        postgresql_partition_by="RANGE (created_at)",
    )
    op.create_index("ix_email_messages_about", "email_messages", ["about_type", "about_id"])
    op.create_index(op.f("ix_email_messages_organization_id"), "email_messages", ["organization_id"])
    op.create_index("ix_email_messages_status_id", "email_messages", ["status", "id"])
    op.create_index(op.f("ix_email_messages_to_address"), "email_messages", ["to_address"])
    create_partitions("email_messages")


def create_jobs_tables():
    """The job outbox: a job is written in its change's transaction and relayed to RQ after the commit."""
    op.create_table(
        "job_outbox",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("func", sa.String(length=255), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("kwargs", sa.JSON(), nullable=False),
        sa.Column("queue", sa.String(length=32), nullable=False),
        sa.Column("at", WHEN, nullable=True),
        sa.Column("job_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("dispatched_at", WHEN, nullable=True),
        sa.Column("at_front", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_outbox")),
    )
    op.create_index(op.f("ix_job_outbox_dispatched_at"), "job_outbox", ["dispatched_at"])


def create_alerts_tables():
    """System alerts staff see in the console."""
    op.create_table(
        "system_alerts",
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
        sa.Column("emailed_at", WHEN, nullable=True),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("resolved_by_id", BIGID, nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("system_alerts", "resolved_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system_alerts")),
    )
    op.create_index("ix_system_alerts_open", "system_alerts", ["resolved_at", "severity", "id"])
    op.create_index(op.f("ix_system_alerts_severity"), "system_alerts", ["severity"])
    op.create_index("ix_system_alerts_source_message", "system_alerts", ["source", "fingerprint"])


def create_api_tables():
    """API keys."""
    op.create_table(
        "api_keys",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=8), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("rate_limit", sa.Integer(), nullable=False),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.Column("last_used_at", WHEN, nullable=True),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("api_keys", "created_by_id", "users", "SET NULL"),
        fk("api_keys", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(op.f("ix_api_keys_key_prefix"), "api_keys", ["key_prefix"])
    op.create_index(op.f("ix_api_keys_organization_id"), "api_keys", ["organization_id"])
    op.create_index(op.f("ix_api_keys_revoked_at"), "api_keys", ["revoked_at"])


def create_notifications_tables():
    """Notifications, their preferences and daily digests, live stream sessions."""
    op.create_table(
        "live_sessions",
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("organization_id", BIGID, nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("connected_at", WHEN, nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("live_sessions", "organization_id", "organizations", "SET NULL"),
        fk("live_sessions", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sessions")),
    )
    op.create_index(op.f("ix_live_sessions_client_id"), "live_sessions", ["client_id"])
    op.create_index("ix_live_sessions_status_seen", "live_sessions", ["status", "last_seen_at"])
    op.create_index(op.f("ix_live_sessions_user_id"), "live_sessions", ["user_id"])
    op.create_table(
        "notification_digest_settings",
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("notification_digest_settings", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_digest_settings")),
        sa.UniqueConstraint("user_id", name=op.f("uq_notification_digest_settings_user_id")),
    )
    op.create_table(
        "notification_digests",
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("notification_count", sa.Integer(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("ai_written", sa.Boolean(), nullable=False),
        sa.Column("email_message_id", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("notification_digests", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_digests")),
        sa.UniqueConstraint("user_id", "day", name=op.f("uq_notification_digests_user_id_day")),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("notification_preferences", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint("user_id", "type", name=op.f("uq_notification_preferences_user_id_type")),
    )
    op.create_index(op.f("ix_notification_preferences_user_id"), "notification_preferences", ["user_id"])
    op.create_table(
        "notifications",
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("organization_id", BIGID, nullable=True),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("read_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("notifications", "organization_id", "organizations", "CASCADE"),
        fk("notifications", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_organization_id"), "notifications", ["organization_id"])
    op.create_index("ix_notifications_user_read", "notifications", ["user_id", "read_at", "id"])


def create_subscriptions_tables():
    """Plans, subscriptions and their coupons, promotion codes and discounts."""
    # The check constraints keep the chain's names, where the convention's prefix came twice.
    op.create_table(
        "coupons",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("percent_off_bps", sa.Integer(), nullable=True),
        sa.Column("amount_off", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("duration", sa.String(length=10), nullable=False),
        sa.Column("duration_in_months", sa.Integer(), nullable=True),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("times_redeemed", sa.Integer(), nullable=False),
        sa.Column("redeem_by", WHEN, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("deactivated_at", WHEN, nullable=True),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.CheckConstraint(
            "(percent_off_bps IS NULL) <> (amount_off IS NULL)", name=op.f("ck_coupons_ck_coupons_percent_or_amount")
        ),
        sa.CheckConstraint(
            "amount_off IS NULL OR (amount_off > 0 AND currency IS NOT NULL)", name=op.f("ck_coupons_ck_coupons_amount")
        ),
        sa.CheckConstraint(
            "percent_off_bps IS NULL OR (percent_off_bps BETWEEN 1 AND 10000)", name=op.f("ck_coupons_ck_coupons_bps")
        ),
        sa.CheckConstraint("times_redeemed >= 0", name=op.f("ck_coupons_ck_coupons_times_redeemed")),
        fk("coupons", "created_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
    )
    op.create_table(
        "plans",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("monthly_price", sa.Integer(), nullable=False),
        sa.Column("yearly_price", sa.Integer(), nullable=False),
        sa.Column("max_users", sa.Integer(), nullable=True),
        sa.Column("max_storage_mb", sa.Integer(), nullable=True),
        sa.Column("max_ai_credits", sa.Integer(), nullable=True),
        sa.Column("max_api_calls", sa.Integer(), nullable=True),
        sa.Column("metered_prices", sa.JSON(), nullable=False),
        sa.Column("is_custom_priced", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("code", name=op.f("uq_plans_code")),
    )
    op.create_table(
        "coupon_plans",
        sa.Column("coupon_id", BIGID, nullable=False),
        sa.Column("plan_id", BIGID, nullable=False),
        fk("coupon_plans", "coupon_id", "coupons", "CASCADE"),
        fk("coupon_plans", "plan_id", "plans", "CASCADE"),
        sa.PrimaryKeyConstraint("coupon_id", "plan_id", name=op.f("pk_coupon_plans")),
    )
    op.create_table(
        "promotion_codes",
        sa.Column("coupon_id", BIGID, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("times_redeemed", sa.Integer(), nullable=False),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.Column("deactivated_at", WHEN, nullable=True),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.CheckConstraint("times_redeemed >= 0", name=op.f("ck_promotion_codes_ck_promotion_codes_times_redeemed")),
        fk("promotion_codes", "coupon_id", "coupons", "CASCADE"),
        fk("promotion_codes", "created_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_promotion_codes_code")),
    )
    op.create_index(op.f("ix_promotion_codes_coupon_id"), "promotion_codes", ["coupon_id"])
    op.create_table(
        "subscriptions",
        sa.Column("plan_id", BIGID, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("billing_interval", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("current_period_start", WHEN, nullable=False),
        sa.Column("current_period_end", WHEN, nullable=False),
        sa.Column("trial_start", WHEN, nullable=True),
        sa.Column("trial_end", WHEN, nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("canceled_at", WHEN, nullable=True),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("pending_plan_id", BIGID, nullable=True),
        sa.Column("pending_interval", sa.String(length=8), nullable=True),
        sa.Column("custom_monthly_price", sa.Integer(), nullable=True),
        sa.Column("custom_yearly_price", sa.Integer(), nullable=True),
        sa.Column("custom_limits", sa.JSON(), nullable=False),
        sa.Column("last_invoice_id", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("subscriptions", "created_by_id", "users", "SET NULL"),
        fk("subscriptions", "organization_id", "organizations", "CASCADE"),
        fk("subscriptions", "pending_plan_id", "plans"),
        fk("subscriptions", "plan_id", "plans"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_index(op.f("ix_subscriptions_current_period_end"), "subscriptions", ["current_period_end"])
    op.create_index(op.f("ix_subscriptions_organization_id"), "subscriptions", ["organization_id"])
    op.create_index(op.f("ix_subscriptions_status"), "subscriptions", ["status"])
    op.create_index(
        "uq_subscriptions_current_per_org",
        "subscriptions",
        ["organization_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
        sqlite_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "subscription_discounts",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("subscription_id", BIGID, nullable=False),
        sa.Column("coupon_id", BIGID, nullable=False),
        sa.Column("promotion_code_id", BIGID, nullable=True),
        sa.Column("start", WHEN, nullable=False),
        sa.Column("end", WHEN, nullable=True),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("invoices_discounted", sa.Integer(), nullable=False),
        sa.Column("redeemed_by_id", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("subscription_discounts", "coupon_id", "coupons", "CASCADE"),
        fk("subscription_discounts", "organization_id", "organizations", "CASCADE"),
        fk("subscription_discounts", "promotion_code_id", "promotion_codes", "SET NULL"),
        fk("subscription_discounts", "redeemed_by_id", "users", "SET NULL"),
        fk("subscription_discounts", "subscription_id", "subscriptions", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_discounts")),
        sa.UniqueConstraint("coupon_id", "organization_id", name="uq_subscription_discounts_coupon_org"),
    )
    op.create_index(op.f("ix_subscription_discounts_coupon_id"), "subscription_discounts", ["coupon_id"])
    op.create_index(op.f("ix_subscription_discounts_organization_id"), "subscription_discounts", ["organization_id"])
    op.create_index(
        op.f("ix_subscription_discounts_promotion_code_id"), "subscription_discounts", ["promotion_code_id"]
    )
    op.create_index(
        "uq_subscription_discounts_live_per_subscription",
        "subscription_discounts",
        ["subscription_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
        sqlite_where=sa.text("ended_at IS NULL"),
    )


def create_usage_tables():
    """Metered usage: raw events (partitioned on PostgreSQL), their idempotency keys, metrics, periods, records."""
    op.create_table(
        "usage_event_keys",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        fk("usage_event_keys", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("organization_id", "event_id", name=op.f("pk_usage_event_keys")),
    )
    # Partitioned by month on PostgreSQL; the event ids' uniqueness is usage_event_keys' primary key.
    op.create_table(
        "usage_events",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("api_key_id", BIGID, nullable=True),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("quantity", BIGID, nullable=False),
        sa.Column("timestamp", WHEN, nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        fk("usage_events", "api_key_id", "api_keys", "SET NULL"),
        fk("usage_events", "organization_id", "organizations", "CASCADE"),
        history_primary_key("usage_events", "timestamp"),
        postgresql_partition_by='RANGE ("timestamp")',
    )
    op.create_index("ix_usage_events_org_time", "usage_events", ["organization_id", "timestamp"])
    op.create_index("ix_usage_events_org_type_time", "usage_events", ["organization_id", "event_type", "timestamp"])
    create_partitions("usage_events")
    op.create_table(
        "usage_metrics",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("aggregation", sa.String(length=16), nullable=False),
        sa.Column("unique_field", sa.String(length=64), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_metrics")),
        sa.UniqueConstraint("code", name=op.f("uq_usage_metrics_code")),
    )
    op.create_table(
        "usage_periods",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("period_start", WHEN, nullable=False),
        sa.Column("period_end", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("usage_periods", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_periods")),
        sa.UniqueConstraint("organization_id", "period_start", name="uq_usage_periods_org_start"),
    )
    op.create_table(
        "usage_records",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("subscription_id", BIGID, nullable=True),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("period_start", WHEN, nullable=False),
        sa.Column("period_end", WHEN, nullable=False),
        sa.Column("event_count", BIGID, nullable=False),
        sa.Column("sum_quantity", BIGID, nullable=False),
        sa.Column("max_quantity", BIGID, nullable=False),
        sa.Column("unique_count", BIGID, nullable=False),
        sa.Column("aggregation", sa.String(length=16), nullable=False),
        sa.Column("value", BIGID, nullable=False),
        sa.Column("computed_at", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("usage_records", "organization_id", "organizations", "CASCADE"),
        fk("usage_records", "subscription_id", "subscriptions", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
        sa.UniqueConstraint("organization_id", "metric", "period_start", name="uq_usage_records_org_metric_period"),
    )
    op.create_index(op.f("ix_usage_records_organization_id"), "usage_records", ["organization_id"])


def create_billing_tables():
    """Billing: accounts, services, runs, invoices and lines, payments, credits, credit notes, refunds."""
    op.create_table(
        "billing_accounts",
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("grace_period_days", sa.Integer(), nullable=False),
        sa.Column("credit_balance", BIGID, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("overdue_since", WHEN, nullable=True),
        sa.Column("suspended_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("billing_accounts", "created_by_id", "users", "SET NULL"),
        fk("billing_accounts", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_accounts")),
        sa.UniqueConstraint("organization_id", name="uq_billing_accounts_organization_id"),
    )
    op.create_index(op.f("ix_billing_accounts_organization_id"), "billing_accounts", ["organization_id"])
    op.create_index(op.f("ix_billing_accounts_status"), "billing_accounts", ["status"])
    op.create_table(
        "billing_credit_note_counters",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_credit_note_counters")),
        sa.UniqueConstraint("year", name=op.f("uq_billing_credit_note_counters_year")),
    )
    op.create_table(
        "billing_invoice_counters",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_invoice_counters")),
        sa.UniqueConstraint("year", name=op.f("uq_billing_invoice_counters_year")),
    )
    op.create_table(
        "billing_invoices",
        sa.Column("account_id", BIGID, nullable=False),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("run_period", sa.String(length=7), nullable=True),
        sa.Column("subscription_id", BIGID, nullable=True),
        sa.Column("subtotal", BIGID, nullable=False),
        sa.Column("tax_rate_bps", sa.Integer(), nullable=False),
        sa.Column("tax", BIGID, nullable=False),
        sa.Column("total", BIGID, nullable=False),
        sa.Column("amount_paid", BIGID, nullable=False),
        sa.Column("amount_due", BIGID, nullable=False),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("finalized_at", WHEN, nullable=True),
        sa.Column("issued_at", WHEN, nullable=True),
        sa.Column("due_at", WHEN, nullable=True),
        sa.Column("paid_at", WHEN, nullable=True),
        sa.Column("voided_at", WHEN, nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("overdue_at", WHEN, nullable=True),
        sa.Column("reminder_sent_at", WHEN, nullable=True),
        sa.Column("payment_token", sa.String(length=64), nullable=True),
        sa.Column("payment_token_expires_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("billing_invoices", "account_id", "billing_accounts", "CASCADE"),
        fk("billing_invoices", "created_by_id", "users", "SET NULL"),
        fk("billing_invoices", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_billing_invoices_number")),
        sa.UniqueConstraint("payment_token", name=op.f("uq_billing_invoices_payment_token")),
    )
    op.create_index(op.f("ix_billing_invoices_account_id"), "billing_invoices", ["account_id"])
    op.create_index("ix_billing_invoices_account_run_period", "billing_invoices", ["account_id", "run_period"])
    op.create_index(op.f("ix_billing_invoices_due_at"), "billing_invoices", ["due_at"])
    op.create_index(op.f("ix_billing_invoices_organization_id"), "billing_invoices", ["organization_id"])
    op.create_index(op.f("ix_billing_invoices_status"), "billing_invoices", ["status"])
    op.create_table(
        "billing_credits",
        sa.Column("account_id", BIGID, nullable=False),
        sa.Column("invoice_id", BIGID, nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", BIGID, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("issued_by_id", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("billing_credits", "account_id", "billing_accounts", "CASCADE"),
        fk("billing_credits", "created_by_id", "users", "SET NULL"),
        fk("billing_credits", "invoice_id", "billing_invoices", "SET NULL"),
        fk("billing_credits", "issued_by_id", "users", "SET NULL"),
        fk("billing_credits", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_credits")),
    )
    op.create_index(op.f("ix_billing_credits_account_id"), "billing_credits", ["account_id"])
    op.create_index(op.f("ix_billing_credits_invoice_id"), "billing_credits", ["invoice_id"])
    op.create_index(op.f("ix_billing_credits_organization_id"), "billing_credits", ["organization_id"])
    op.create_table(
        "billing_payment_methods",
        sa.Column("account_id", BIGID, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("stripe_payment_method_id", sa.String(length=120), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("card_brand", sa.String(length=24), nullable=True),
        sa.Column("card_last4", sa.String(length=4), nullable=True),
        sa.Column("card_exp_month", sa.Integer(), nullable=True),
        sa.Column("card_exp_year", sa.Integer(), nullable=True),
        sa.Column("removed_at", WHEN, nullable=True),
        sa.Column("expiry_notice_sent_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("billing_payment_methods", "account_id", "billing_accounts", "CASCADE"),
        fk("billing_payment_methods", "created_by_id", "users", "SET NULL"),
        fk("billing_payment_methods", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_payment_methods")),
        sa.UniqueConstraint(
            "stripe_payment_method_id", name=op.f("uq_billing_payment_methods_stripe_payment_method_id")
        ),
    )
    op.create_index(op.f("ix_billing_payment_methods_account_id"), "billing_payment_methods", ["account_id"])
    op.create_index(op.f("ix_billing_payment_methods_organization_id"), "billing_payment_methods", ["organization_id"])
    op.create_index(op.f("ix_billing_payment_methods_status"), "billing_payment_methods", ["status"])
    op.create_index(
        "uq_billing_payment_methods_default",
        "billing_payment_methods",
        ["account_id"],
        unique=True,
        postgresql_where=sa.text("is_default AND status = 'ACTIVE'"),
        sqlite_where=sa.text("is_default AND status = 'ACTIVE'"),
    )
    op.create_table(
        "billing_payments",
        sa.Column("account_id", BIGID, nullable=False),
        sa.Column("invoice_id", BIGID, nullable=True),
        sa.Column("amount", BIGID, nullable=False),
        sa.Column("applied_amount", BIGID, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("external_reference", sa.String(length=120), nullable=True),
        sa.Column("provider_reference", sa.String(length=120), nullable=True),
        sa.Column("poll_url", sa.String(length=500), nullable=True),
        sa.Column("external_status", sa.String(length=40), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("initiated_at", WHEN, nullable=False),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("failed_at", WHEN, nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("billing_payments", "account_id", "billing_accounts", "CASCADE"),
        fk("billing_payments", "created_by_id", "users", "SET NULL"),
        fk("billing_payments", "invoice_id", "billing_invoices", "SET NULL"),
        fk("billing_payments", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_payments")),
        sa.UniqueConstraint("provider", "external_reference", name="uq_billing_payments_provider_ref"),
    )
    op.create_index(op.f("ix_billing_payments_account_id"), "billing_payments", ["account_id"])
    op.create_index(op.f("ix_billing_payments_invoice_id"), "billing_payments", ["invoice_id"])
    op.create_index(op.f("ix_billing_payments_organization_id"), "billing_payments", ["organization_id"])
    op.create_index(op.f("ix_billing_payments_status"), "billing_payments", ["status"])
    op.create_table(
        "billing_collection_attempts",
        sa.Column("invoice_id", BIGID, nullable=False),
        sa.Column("payment_method_id", BIGID, nullable=True),
        sa.Column("payment_id", BIGID, nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", BIGID, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempted_at", WHEN, nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("billing_collection_attempts", "created_by_id", "users", "SET NULL"),
        fk("billing_collection_attempts", "invoice_id", "billing_invoices", "CASCADE"),
        fk("billing_collection_attempts", "organization_id", "organizations", "CASCADE"),
        fk("billing_collection_attempts", "payment_id", "billing_payments", "SET NULL"),
        fk("billing_collection_attempts", "payment_method_id", "billing_payment_methods", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_collection_attempts")),
        sa.UniqueConstraint("invoice_id", "number", name="uq_billing_collection_attempts_invoice_number"),
    )
    op.create_index(op.f("ix_billing_collection_attempts_invoice_id"), "billing_collection_attempts", ["invoice_id"])
    op.create_index(
        op.f("ix_billing_collection_attempts_next_attempt_at"), "billing_collection_attempts", ["next_attempt_at"]
    )
    op.create_index(
        op.f("ix_billing_collection_attempts_organization_id"), "billing_collection_attempts", ["organization_id"]
    )
    op.create_index(op.f("ix_billing_collection_attempts_status"), "billing_collection_attempts", ["status"])
    op.create_table(
        "billing_provider_customers",
        sa.Column("account_id", BIGID, nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=120), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("billing_provider_customers", "account_id", "billing_accounts", "CASCADE"),
        fk("billing_provider_customers", "created_by_id", "users", "SET NULL"),
        fk("billing_provider_customers", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_provider_customers")),
        sa.UniqueConstraint("account_id", "provider", name="uq_billing_provider_customers_account_provider"),
        sa.UniqueConstraint("provider", "customer_id", name="uq_billing_provider_customers_provider_customer"),
    )
    op.create_index(
        op.f("ix_billing_provider_customers_organization_id"), "billing_provider_customers", ["organization_id"]
    )
    op.create_table(
        "billing_provider_events",
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payment_id", BIGID, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("processed_at", WHEN, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_provider_events")),
        sa.UniqueConstraint("provider", "event_id", name="uq_billing_provider_events_provider_event"),
    )
    op.create_index(op.f("ix_billing_provider_events_status"), "billing_provider_events", ["status"])
    op.create_table(
        "billing_refunds",
        sa.Column("payment_id", BIGID, nullable=False),
        sa.Column("invoice_id", BIGID, nullable=True),
        sa.Column("amount", BIGID, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("destination", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("provider_reference", sa.String(length=120), nullable=True),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("billing_refunds", "created_by_id", "users", "SET NULL"),
        fk("billing_refunds", "invoice_id", "billing_invoices", "SET NULL"),
        fk("billing_refunds", "organization_id", "organizations", "CASCADE"),
        fk("billing_refunds", "payment_id", "billing_payments", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_refunds")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_billing_refunds_idempotency_key")),
        sa.UniqueConstraint("provider", "provider_reference", name="uq_billing_refunds_provider_ref"),
    )
    op.create_index(op.f("ix_billing_refunds_organization_id"), "billing_refunds", ["organization_id"])
    op.create_index(op.f("ix_billing_refunds_payment_id"), "billing_refunds", ["payment_id"])
    op.create_table(
        "billing_credit_notes",
        sa.Column("account_id", BIGID, nullable=False),
        sa.Column("invoice_id", BIGID, nullable=False),
        sa.Column("refund_id", BIGID, nullable=True),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal", BIGID, nullable=False),
        sa.Column("tax", BIGID, nullable=False),
        sa.Column("total", BIGID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("destination", sa.String(length=16), nullable=False),
        sa.Column("issued_at", WHEN, nullable=False),
        sa.Column("issued_by_id", BIGID, nullable=True),
        sa.Column("emailed_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("billing_credit_notes", "account_id", "billing_accounts", "CASCADE"),
        fk("billing_credit_notes", "created_by_id", "users", "SET NULL"),
        fk("billing_credit_notes", "invoice_id", "billing_invoices", "CASCADE"),
        fk("billing_credit_notes", "issued_by_id", "users", "SET NULL"),
        fk("billing_credit_notes", "organization_id", "organizations", "CASCADE"),
        fk("billing_credit_notes", "refund_id", "billing_refunds", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_credit_notes")),
        sa.UniqueConstraint("number", name=op.f("uq_billing_credit_notes_number")),
    )
    op.create_index(op.f("ix_billing_credit_notes_account_id"), "billing_credit_notes", ["account_id"])
    op.create_index(op.f("ix_billing_credit_notes_invoice_id"), "billing_credit_notes", ["invoice_id"])
    op.create_index(op.f("ix_billing_credit_notes_organization_id"), "billing_credit_notes", ["organization_id"])
    op.create_table(
        "billing_runs",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("started_by_id", BIGID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("queued_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", WHEN, nullable=True),
        sa.Column("lease_expiries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("report", sa.JSON(), nullable=False, server_default="[]"),
        fk("billing_runs", "started_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_runs")),
    )
    op.create_index(op.f("ix_billing_runs_lease_expires_at"), "billing_runs", ["lease_expires_at"])
    op.create_index(op.f("ix_billing_runs_period"), "billing_runs", ["period"])
    op.create_index(op.f("ix_billing_runs_status"), "billing_runs", ["status"])
    op.create_table(
        "billing_services",
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("hardware_serial", sa.String(length=64), nullable=True),
        sa.Column("monthly_fee", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("activated_at", WHEN, nullable=False),
        sa.Column("suspended_at", WHEN, nullable=True),
        sa.Column("cancelled_at", WHEN, nullable=True),
        sa.Column("suspended_by_dunning", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("billing_services", "created_by_id", "users", "SET NULL"),
        fk("billing_services", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_services")),
    )
    op.create_index(op.f("ix_billing_services_hardware_serial"), "billing_services", ["hardware_serial"])
    op.create_index(op.f("ix_billing_services_organization_id"), "billing_services", ["organization_id"])
    op.create_index(op.f("ix_billing_services_status"), "billing_services", ["status"])
    op.create_index(op.f("ix_billing_services_type"), "billing_services", ["type"])
    op.create_table(
        "billing_invoice_lines",
        sa.Column("invoice_id", BIGID, nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", BIGID, nullable=False),
        sa.Column("total", BIGID, nullable=False),
        sa.Column("service_id", BIGID, nullable=True),
        sa.Column("metric", sa.String(length=64), nullable=True),
        sa.Column("subscription_id", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("billing_invoice_lines", "invoice_id", "billing_invoices", "CASCADE"),
        fk("billing_invoice_lines", "service_id", "billing_services", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_invoice_lines")),
    )
    op.create_index(op.f("ix_billing_invoice_lines_invoice_id"), "billing_invoice_lines", ["invoice_id"])
    op.create_index(op.f("ix_billing_invoice_lines_service_id"), "billing_invoice_lines", ["service_id"])
    if postgres():
        op.execute(frozen(INVOICE_IMMUTABLE, INVOICE_FROZEN))
    # What each invoice line bills and for which dates: a period is billed at most once.
    op.create_table(
        "billing_billed_periods",
        sa.Column("line_id", BIGID, nullable=False),
        sa.Column("invoice_id", BIGID, nullable=False),
        sa.Column("account_id", BIGID, nullable=False),
        sa.Column("billable_key", sa.String(length=120), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("released_at", WHEN, nullable=True),
        sa.Column("release_reason", sa.String(length=200), nullable=True),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.CheckConstraint(
            "end_date >= start_date", name=op.f("ck_billing_billed_periods_ck_billing_billed_periods_dates")
        ),
        fk("billing_billed_periods", "account_id", "billing_accounts", "CASCADE"),
        fk("billing_billed_periods", "created_by_id", "users", "SET NULL"),
        fk("billing_billed_periods", "invoice_id", "billing_invoices", "CASCADE"),
        fk("billing_billed_periods", "line_id", "billing_invoice_lines", "CASCADE"),
        fk("billing_billed_periods", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_billed_periods")),
        sa.UniqueConstraint("line_id", name=op.f("uq_billing_billed_periods_line_id")),
    )
    op.create_index(op.f("ix_billing_billed_periods_account_id"), "billing_billed_periods", ["account_id"])
    op.create_index(op.f("ix_billing_billed_periods_invoice_id"), "billing_billed_periods", ["invoice_id"])
    op.create_index("ix_billing_billed_periods_key_start", "billing_billed_periods", ["billable_key", "start_date"])
    op.create_index(op.f("ix_billing_billed_periods_organization_id"), "billing_billed_periods", ["organization_id"])
    if postgres():
        op.execute(BILLED_ONCE)
    op.create_table(
        "billing_credit_note_lines",
        sa.Column("credit_note_id", BIGID, nullable=False),
        sa.Column("invoice_line_id", BIGID, nullable=True),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("amount", BIGID, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("billing_credit_note_lines", "credit_note_id", "billing_credit_notes", "CASCADE"),
        fk("billing_credit_note_lines", "invoice_line_id", "billing_invoice_lines", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_credit_note_lines")),
    )
    op.create_index(
        op.f("ix_billing_credit_note_lines_credit_note_id"), "billing_credit_note_lines", ["credit_note_id"]
    )
    op.create_index(
        op.f("ix_billing_credit_note_lines_invoice_line_id"), "billing_credit_note_lines", ["invoice_line_id"]
    )
    if postgres():
        op.execute(frozen(CREDIT_NOTE_IMMUTABLE, CREDIT_NOTE_FROZEN))


def create_ai_tables():
    """AI: credits, usage, prompts, chat, reports, task proposals and stored answers."""
    op.create_table(
        "ai_chat_messages",
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("ai_chat_messages", "organization_id", "organizations", "CASCADE"),
        fk("ai_chat_messages", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_chat_messages")),
    )
    op.create_index("ix_ai_chat_messages_org_user", "ai_chat_messages", ["organization_id", "user_id", "id"])
    op.create_table(
        "ai_credit_balances",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("grant_remaining", sa.Integer(), nullable=False),
        sa.Column("period_grant", sa.Integer(), nullable=False),
        sa.Column("total_purchased", sa.Integer(), nullable=False),
        sa.Column("total_used", sa.Integer(), nullable=False),
        sa.Column("last_reset", WHEN, nullable=False),
        sa.Column("next_reset", WHEN, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_ai_credit_balances_balance_not_negative")),
        fk("ai_credit_balances", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_credit_balances")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_ai_credit_balances_organization_id")),
    )
    op.create_index(op.f("ix_ai_credit_balances_next_reset"), "ai_credit_balances", ["next_reset"])
    op.create_table(
        "ai_credit_purchases",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("user_id", BIGID, nullable=True),
        sa.Column("credits", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("invoice_id", BIGID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paid_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("ai_credit_purchases", "organization_id", "organizations", "CASCADE"),
        fk("ai_credit_purchases", "user_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_credit_purchases")),
    )
    op.create_index(op.f("ix_ai_credit_purchases_invoice_id"), "ai_credit_purchases", ["invoice_id"])
    op.create_index(op.f("ix_ai_credit_purchases_organization_id"), "ai_credit_purchases", ["organization_id"])
    op.create_table(
        "ai_credit_transactions",
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("user_id", BIGID, nullable=True),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=True),
        sa.Column("service", sa.String(length=32), nullable=True),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("purchase_amount_cents", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("ai_credit_transactions", "organization_id", "organizations", "CASCADE"),
        fk("ai_credit_transactions", "user_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_credit_transactions")),
    )
    op.create_index("ix_ai_credit_transactions_org_id", "ai_credit_transactions", ["organization_id", "id"])
    op.create_table(
        "ai_prompt_templates",
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("system_prompt", sa.Text(), nullable=False),
        sa.Column("user_template", sa.Text(), nullable=False),
        sa.Column("max_tokens", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("ai_prompt_templates", "updated_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_prompt_templates")),
        sa.UniqueConstraint("service", "key", name=op.f("uq_ai_prompt_templates_service_key")),
    )
    op.create_index(op.f("ix_ai_prompt_templates_service"), "ai_prompt_templates", ["service"])
    op.create_table(
        "ai_results",
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("ai_results", "organization_id", "organizations", "CASCADE"),
        fk("ai_results", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_results")),
    )
    op.create_index("ix_ai_results_org_user_kind", "ai_results", ["organization_id", "user_id", "kind"])
    op.create_table(
        "ai_usage_logs",
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("user_id", BIGID, nullable=True),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("credits_reserved", sa.Integer(), nullable=False),
        sa.Column("credits_used", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("model", sa.String(length=80), nullable=True),
        sa.Column("processing_ms", sa.Integer(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("ai_usage_logs", "organization_id", "organizations", "CASCADE"),
        fk("ai_usage_logs", "user_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_usage_logs")),
    )
    op.create_index(op.f("ix_ai_usage_logs_created_at"), "ai_usage_logs", ["created_at"])
    op.create_index("ix_ai_usage_logs_org_id", "ai_usage_logs", ["organization_id", "id"])
    op.create_table(
        "ai_reports",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", BIGID, nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("narrative", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("usage_log_id", BIGID, nullable=True),
        sa.Column("credits_used", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("ai_reports", "created_by_id", "users", "SET NULL"),
        fk("ai_reports", "organization_id", "organizations", "CASCADE"),
        fk("ai_reports", "usage_log_id", "ai_usage_logs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_reports")),
    )
    op.create_index(op.f("ix_ai_reports_organization_id"), "ai_reports", ["organization_id"])
    op.create_index("ix_ai_reports_subject", "ai_reports", ["organization_id", "kind", "subject_id", "id"])
    op.create_table(
        "ai_task_proposals",
        sa.Column("project_id", BIGID, nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("tasks", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source_report_id", BIGID, nullable=True),
        sa.Column("usage_log_id", BIGID, nullable=True),
        sa.Column("created_task_ids", sa.JSON(), nullable=False),
        sa.Column("accepted_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("ai_task_proposals", "created_by_id", "users", "SET NULL"),
        fk("ai_task_proposals", "organization_id", "organizations", "CASCADE"),
        fk("ai_task_proposals", "project_id", "projects", "CASCADE"),
        fk("ai_task_proposals", "source_report_id", "ai_reports", "SET NULL"),
        fk("ai_task_proposals", "usage_log_id", "ai_usage_logs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_task_proposals")),
    )
    op.create_index(op.f("ix_ai_task_proposals_organization_id"), "ai_task_proposals", ["organization_id"])
    op.create_index(op.f("ix_ai_task_proposals_project_id"), "ai_task_proposals", ["project_id"])


def create_integrations_tables():
    """Integrations: connections, OAuth states, the outbound-call log (partitioned on PostgreSQL), Drive, freee."""
    op.create_table(
        "connections",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("account_name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scopes", sa.String(length=500), nullable=False),
        sa.Column("token_expires_at", WHEN, nullable=True),
        sa.Column("refresh_expires_at", WHEN, nullable=True),
        sa.Column("connected_at", WHEN, nullable=False),
        sa.Column("disconnected_at", WHEN, nullable=True),
        sa.Column("last_refreshed_at", WHEN, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", WHEN, nullable=True),
        sa.Column("last_sync_at", WHEN, nullable=True),
        sa.Column("sync_frequency", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("access_token_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("access_token_iv", sa.LargeBinary(), nullable=True),
        sa.Column("access_token_tag", sa.LargeBinary(), nullable=True),
        sa.Column("access_token_key_id", sa.String(length=16), nullable=True),
        sa.Column("refresh_token_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("refresh_token_iv", sa.LargeBinary(), nullable=True),
        sa.Column("refresh_token_tag", sa.LargeBinary(), nullable=True),
        sa.Column("refresh_token_key_id", sa.String(length=16), nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("connections", "created_by_id", "users", "SET NULL"),
        fk("connections", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint(
            "organization_id", "provider", "account_id", name=op.f("uq_connections_organization_id_provider_account_id")
        ),
    )
    op.create_index(op.f("ix_connections_organization_id"), "connections", ["organization_id"])
    op.create_index("ix_connections_provider", "connections", ["provider", "status"])
    op.create_index("ix_connections_status", "connections", ["status"])
    op.create_table(
        "drive_files",
        sa.Column("connection_id", BIGID, nullable=False),
        sa.Column("drive_file_id", sa.String(length=128), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("mime_type", sa.String(length=255), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("web_view_link", sa.String(length=1000), nullable=True),
        sa.Column("thumbnail_link", sa.String(length=1000), nullable=True),
        sa.Column("drive_created_at", WHEN, nullable=True),
        sa.Column("drive_modified_at", WHEN, nullable=True),
        sa.Column("drive_parent_id", sa.String(length=128), nullable=True),
        sa.Column("project_id", BIGID, nullable=True),
        sa.Column("task_id", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("web_content_link", sa.String(length=1000), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("can_edit", sa.Boolean(), nullable=False),
        sa.Column("can_share", sa.Boolean(), nullable=False),
        sa.Column("synced_at", WHEN, nullable=True),
        sa.Column("unlinked_at", WHEN, nullable=True),
        sa.Column("cache_upload_id", BIGID, nullable=True),
        sa.Column("cache_expires_at", WHEN, nullable=True),
        fk("drive_files", "cache_upload_id", "file_uploads", "SET NULL"),
        fk("drive_files", "connection_id", "connections", "CASCADE"),
        fk("drive_files", "created_by_id", "users", "SET NULL"),
        fk("drive_files", "organization_id", "organizations", "CASCADE"),
        fk("drive_files", "project_id", "projects", "SET NULL"),
        fk("drive_files", "task_id", "tasks", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_files")),
        sa.UniqueConstraint("connection_id", "drive_file_id", name=op.f("uq_drive_files_connection_id_drive_file_id")),
    )
    op.create_index(op.f("ix_drive_files_connection_id"), "drive_files", ["connection_id"])
    op.create_index(op.f("ix_drive_files_organization_id"), "drive_files", ["organization_id"])
    op.create_index(op.f("ix_drive_files_project_id"), "drive_files", ["project_id"])
    op.create_index(op.f("ix_drive_files_task_id"), "drive_files", ["task_id"])
    op.create_table(
        "drive_project_folders",
        sa.Column("connection_id", BIGID, nullable=False),
        sa.Column("project_id", BIGID, nullable=False),
        sa.Column("folder_id", sa.String(length=128), nullable=False),
        sa.Column("folder_name", sa.String(length=500), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        fk("drive_project_folders", "connection_id", "connections", "CASCADE"),
        fk("drive_project_folders", "created_by_id", "users", "SET NULL"),
        fk("drive_project_folders", "organization_id", "organizations", "CASCADE"),
        fk("drive_project_folders", "project_id", "projects", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_project_folders")),
        sa.UniqueConstraint(
            "connection_id", "project_id", name=op.f("uq_drive_project_folders_connection_id_project_id")
        ),
    )
    op.create_index(op.f("ix_drive_project_folders_connection_id"), "drive_project_folders", ["connection_id"])
    op.create_index(op.f("ix_drive_project_folders_organization_id"), "drive_project_folders", ["organization_id"])
    op.create_index(op.f("ix_drive_project_folders_project_id"), "drive_project_folders", ["project_id"])
    op.create_table(
        "drive_sync_logs",
        sa.Column("connection_id", BIGID, nullable=False),
        sa.Column("sync_type", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("queued_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", WHEN, nullable=True),
        sa.Column("lease_expiries", sa.Integer(), server_default="0", nullable=False),
        fk("drive_sync_logs", "connection_id", "connections", "CASCADE"),
        fk("drive_sync_logs", "created_by_id", "users", "SET NULL"),
        fk("drive_sync_logs", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drive_sync_logs")),
    )
    op.create_index(op.f("ix_drive_sync_logs_connection_id"), "drive_sync_logs", ["connection_id"])
    op.create_index(op.f("ix_drive_sync_logs_lease_expires_at"), "drive_sync_logs", ["lease_expires_at"])
    op.create_index(op.f("ix_drive_sync_logs_organization_id"), "drive_sync_logs", ["organization_id"])
    op.create_index(op.f("ix_drive_sync_logs_status"), "drive_sync_logs", ["status"])
    op.create_table(
        "freee_deals",
        sa.Column("connection_id", BIGID, nullable=False),
        sa.Column("freee_id", sa.BigInteger(), nullable=False),
        sa.Column("issue_date", sa.String(length=10), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("partner_freee_id", sa.BigInteger(), nullable=True),
        sa.Column("ref_number", sa.String(length=64), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("freee_deals", "connection_id", "connections", "CASCADE"),
        fk("freee_deals", "created_by_id", "users", "SET NULL"),
        fk("freee_deals", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freee_deals")),
        sa.UniqueConstraint("connection_id", "freee_id", name=op.f("uq_freee_deals_connection_id_freee_id")),
    )
    op.create_index(op.f("ix_freee_deals_connection_id"), "freee_deals", ["connection_id"])
    op.create_index(op.f("ix_freee_deals_organization_id"), "freee_deals", ["organization_id"])
    op.create_table(
        "freee_exports",
        sa.Column("connection_id", BIGID, nullable=True),
        sa.Column("company_id", sa.BigInteger(), nullable=False),
        sa.Column("entity_type", sa.String(length=16), nullable=False),
        sa.Column("local_id", BIGID, nullable=False),
        sa.Column("freee_id", sa.BigInteger(), nullable=False),
        sa.Column("exported_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("freee_exports", "connection_id", "connections", "SET NULL"),
        fk("freee_exports", "created_by_id", "users", "SET NULL"),
        fk("freee_exports", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freee_exports")),
        sa.UniqueConstraint("company_id", "entity_type", "local_id", name="uq_freee_exports_local"),
    )
    op.create_index(op.f("ix_freee_exports_connection_id"), "freee_exports", ["connection_id"])
    op.create_index(op.f("ix_freee_exports_organization_id"), "freee_exports", ["organization_id"])
    op.create_table(
        "freee_invoices",
        sa.Column("connection_id", BIGID, nullable=False),
        sa.Column("freee_id", sa.BigInteger(), nullable=False),
        sa.Column("invoice_number", sa.String(length=64), nullable=True),
        sa.Column("billing_date", sa.String(length=10), nullable=True),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("partner_freee_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("local_invoice_id", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("freee_invoices", "connection_id", "connections", "CASCADE"),
        fk("freee_invoices", "created_by_id", "users", "SET NULL"),
        fk("freee_invoices", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freee_invoices")),
        sa.UniqueConstraint("connection_id", "freee_id", name=op.f("uq_freee_invoices_connection_id_freee_id")),
    )
    op.create_index(op.f("ix_freee_invoices_connection_id"), "freee_invoices", ["connection_id"])
    op.create_index(op.f("ix_freee_invoices_local_invoice_id"), "freee_invoices", ["local_invoice_id"])
    op.create_index(op.f("ix_freee_invoices_organization_id"), "freee_invoices", ["organization_id"])
    op.create_table(
        "freee_partners",
        sa.Column("connection_id", BIGID, nullable=False),
        sa.Column("freee_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("freee_updated_at", sa.String(length=32), nullable=True),
        sa.Column("source_organization_id", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("freee_partners", "connection_id", "connections", "CASCADE"),
        fk("freee_partners", "created_by_id", "users", "SET NULL"),
        fk("freee_partners", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freee_partners")),
        sa.UniqueConstraint("connection_id", "freee_id", name=op.f("uq_freee_partners_connection_id_freee_id")),
    )
    op.create_index(op.f("ix_freee_partners_connection_id"), "freee_partners", ["connection_id"])
    op.create_index(op.f("ix_freee_partners_organization_id"), "freee_partners", ["organization_id"])
    op.create_table(
        "freee_sync_jobs",
        sa.Column("connection_id", BIGID, nullable=False),
        sa.Column("freee_company_id", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("entity_types", sa.JSON(), nullable=False),
        sa.Column("full_sync", sa.Boolean(), nullable=False),
        sa.Column("since_date", sa.Date(), nullable=True),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("queued_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", WHEN, nullable=True),
        sa.Column("lease_expiries", sa.Integer(), server_default="0", nullable=False),
        fk("freee_sync_jobs", "connection_id", "connections", "CASCADE"),
        fk("freee_sync_jobs", "created_by_id", "users", "SET NULL"),
        fk("freee_sync_jobs", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_freee_sync_jobs")),
    )
    op.create_index(op.f("ix_freee_sync_jobs_connection_id"), "freee_sync_jobs", ["connection_id"])
    op.create_index(op.f("ix_freee_sync_jobs_freee_company_id"), "freee_sync_jobs", ["freee_company_id"])
    op.create_index(op.f("ix_freee_sync_jobs_lease_expires_at"), "freee_sync_jobs", ["lease_expires_at"])
    op.create_index(op.f("ix_freee_sync_jobs_organization_id"), "freee_sync_jobs", ["organization_id"])
    op.create_index(op.f("ix_freee_sync_jobs_status"), "freee_sync_jobs", ["status"])
    op.create_table(
        "oauth_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("user_session_id", BIGID, nullable=True),
        sa.Column("return_to", sa.String(length=500), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("used_at", WHEN, nullable=True),
        sa.Column("code_verifier_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("code_verifier_iv", sa.LargeBinary(), nullable=True),
        sa.Column("code_verifier_tag", sa.LargeBinary(), nullable=True),
        sa.Column("code_verifier_key_id", sa.String(length=16), nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("oauth_states", "organization_id", "organizations", "CASCADE"),
        fk("oauth_states", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oauth_states_state_hash")),
    )
    op.create_index(op.f("ix_oauth_states_created_at"), "oauth_states", ["created_at"])
    op.create_table(
        "outbound_calls",
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("endpoint", sa.String(length=500), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("provider_request_id", sa.String(length=128), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        fk("outbound_calls", "organization_id", "organizations", "SET NULL"),
        history_primary_key("outbound_calls", "created_at"),
        postgresql_partition_by="RANGE (created_at)",
    )
    op.create_index(op.f("ix_outbound_calls_created_at"), "outbound_calls", ["created_at"])
    op.create_index("ix_outbound_calls_org_id", "outbound_calls", ["organization_id", "id"])
    op.create_index("ix_outbound_calls_provider_id", "outbound_calls", ["provider", "id"])
    create_partitions("outbound_calls")


def create_studio_tables():
    """Studio: videos, posts, the posting queue, publish jobs and attempts, published posts and their metrics."""
    op.create_table(
        "studio_hashtag_groups",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("hashtags", sa.JSON(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        fk("studio_hashtag_groups", "created_by_id", "users", "SET NULL"),
        fk("studio_hashtag_groups", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_hashtag_groups")),
        sa.UniqueConstraint("organization_id", "name", name=op.f("uq_studio_hashtag_groups_organization_id_name")),
    )
    op.create_index(op.f("ix_studio_hashtag_groups_organization_id"), "studio_hashtag_groups", ["organization_id"])
    op.create_table(
        "studio_org_settings",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("approval_required", sa.Boolean(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("queue_paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        fk("studio_org_settings", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_org_settings")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_studio_org_settings_organization_id")),
    )
    op.create_table(
        "studio_queue_slots",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("connection_id", BIGID, nullable=True),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        fk("studio_queue_slots", "connection_id", "connections", "CASCADE"),
        fk("studio_queue_slots", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_queue_slots")),
    )
    op.create_index(op.f("ix_studio_queue_slots_organization_id"), "studio_queue_slots", ["organization_id"])
    op.create_table(
        "studio_videos",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=512), nullable=True),
        sa.Column("original_filename", sa.String(length=255), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("file_size", BIGID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("aspect_ratio", sa.String(length=16), nullable=True),
        sa.Column("codec", sa.String(length=32), nullable=True),
        sa.Column("frame_rate", sa.String(length=16), nullable=True),
        sa.Column("probed_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("thumbnail_size", BIGID, nullable=False, server_default="0"),
        fk("studio_videos", "created_by_id", "users", "SET NULL"),
        fk("studio_videos", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_videos")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_studio_videos_storage_key")),
    )
    op.create_index(op.f("ix_studio_videos_organization_id"), "studio_videos", ["organization_id"])
    op.create_index(op.f("ix_studio_videos_status"), "studio_videos", ["status"])
    op.create_table(
        "studio_posts",
        sa.Column("video_id", BIGID, nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("hashtags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scheduled_at", WHEN, nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("approval", sa.String(length=16), nullable=True),
        sa.Column("approval_comment", sa.Text(), nullable=True),
        sa.Column("approval_by_id", BIGID, nullable=True),
        sa.Column("approval_at", WHEN, nullable=True),
        sa.Column("submitted_by_id", BIGID, nullable=True),
        sa.Column("queued", sa.Boolean(), nullable=False, server_default=sa.false()),
        fk("studio_posts", "approval_by_id", "users", "SET NULL"),
        fk("studio_posts", "created_by_id", "users", "SET NULL"),
        fk("studio_posts", "organization_id", "organizations", "CASCADE"),
        fk("studio_posts", "submitted_by_id", "users", "SET NULL"),
        fk("studio_posts", "video_id", "studio_videos", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_posts")),
    )
    op.create_index("ix_studio_posts_org_scheduled", "studio_posts", ["organization_id", "scheduled_at"])
    op.create_index(op.f("ix_studio_posts_organization_id"), "studio_posts", ["organization_id"])
    op.create_index(op.f("ix_studio_posts_status"), "studio_posts", ["status"])
    op.create_index(op.f("ix_studio_posts_video_id"), "studio_posts", ["video_id"])
    op.create_table(
        "studio_publish_jobs",
        sa.Column("post_id", BIGID, nullable=False),
        sa.Column("connection_id", BIGID, nullable=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("scheduled_for", WHEN, nullable=True),
        sa.Column("due_at", WHEN, nullable=True),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("claimed_at", WHEN, nullable=True),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("failed_at", WHEN, nullable=True),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("remote", sa.JSON(), nullable=False),
        sa.Column("irreversible_at", WHEN, nullable=True),
        sa.Column("outcome_unknown", sa.Boolean(), nullable=False),
        sa.Column("error_kind", sa.String(length=32), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("platform_post_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("lease_expires_at", WHEN, nullable=True),
        sa.Column("lease_expiries", sa.Integer(), server_default="0", nullable=False),
        fk("studio_publish_jobs", "connection_id", "connections", "SET NULL"),
        fk("studio_publish_jobs", "created_by_id", "users", "SET NULL"),
        fk("studio_publish_jobs", "organization_id", "organizations", "CASCADE"),
        fk("studio_publish_jobs", "post_id", "studio_posts", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_publish_jobs")),
        sa.UniqueConstraint("post_id", "platform", name=op.f("uq_studio_publish_jobs_post_id_platform")),
    )
    op.create_index(op.f("ix_studio_publish_jobs_connection_id"), "studio_publish_jobs", ["connection_id"])
    op.create_index("ix_studio_publish_jobs_due", "studio_publish_jobs", ["status", "due_at"])
    op.create_index(op.f("ix_studio_publish_jobs_lease_expires_at"), "studio_publish_jobs", ["lease_expires_at"])
    op.create_index(op.f("ix_studio_publish_jobs_organization_id"), "studio_publish_jobs", ["organization_id"])
    op.create_index(op.f("ix_studio_publish_jobs_post_id"), "studio_publish_jobs", ["post_id"])
    op.create_index(op.f("ix_studio_publish_jobs_status"), "studio_publish_jobs", ["status"])
    op.create_table(
        "studio_publish_attempts",
        sa.Column("job_id", BIGID, nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error_kind", sa.String(length=32), nullable=True),
        sa.Column("excerpt", sa.String(length=500), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("studio_publish_attempts", "job_id", "studio_publish_jobs", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_publish_attempts")),
    )
    op.create_index("ix_studio_publish_attempts_created_at", "studio_publish_attempts", ["created_at"])
    op.create_index(op.f("ix_studio_publish_attempts_job_id"), "studio_publish_attempts", ["job_id"])
    op.create_table(
        "studio_published_posts",
        sa.Column("post_id", BIGID, nullable=False),
        sa.Column("job_id", BIGID, nullable=False),
        sa.Column("video_id", BIGID, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("platform_post_id", sa.String(length=128), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("hashtags", sa.JSON(), nullable=False),
        sa.Column("published_at", WHEN, nullable=False),
        sa.Column("views", BIGID, nullable=False),
        sa.Column("likes", BIGID, nullable=False),
        sa.Column("comments", BIGID, nullable=False),
        sa.Column("shares", BIGID, nullable=False),
        sa.Column("last_synced_at", WHEN, nullable=True),
        sa.Column("sync_error", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("studio_published_posts", "created_by_id", "users", "SET NULL"),
        fk("studio_published_posts", "job_id", "studio_publish_jobs", "CASCADE"),
        fk("studio_published_posts", "organization_id", "organizations", "CASCADE"),
        fk("studio_published_posts", "post_id", "studio_posts", "CASCADE"),
        fk("studio_published_posts", "video_id", "studio_videos", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_published_posts")),
        sa.UniqueConstraint("job_id", name=op.f("uq_studio_published_posts_job_id")),
        sa.UniqueConstraint(
            "platform", "platform_post_id", name=op.f("uq_studio_published_posts_platform_platform_post_id")
        ),
    )
    op.create_index(op.f("ix_studio_published_posts_organization_id"), "studio_published_posts", ["organization_id"])
    op.create_index(op.f("ix_studio_published_posts_platform"), "studio_published_posts", ["platform"])
    op.create_index(op.f("ix_studio_published_posts_post_id"), "studio_published_posts", ["post_id"])
    op.create_index(op.f("ix_studio_published_posts_published_at"), "studio_published_posts", ["published_at"])
    op.create_index(op.f("ix_studio_published_posts_video_id"), "studio_published_posts", ["video_id"])
    op.create_table(
        "studio_metric_snapshots",
        sa.Column("published_post_id", BIGID, nullable=False),
        sa.Column("taken_at", WHEN, nullable=False),
        sa.Column("views", BIGID, nullable=False),
        sa.Column("likes", BIGID, nullable=False),
        sa.Column("comments", BIGID, nullable=False),
        sa.Column("shares", BIGID, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("studio_metric_snapshots", "published_post_id", "studio_published_posts", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_metric_snapshots")),
    )
    op.create_index(
        "ix_studio_metric_snapshots_post_taken", "studio_metric_snapshots", ["published_post_id", "taken_at"]
    )
    op.create_index(
        op.f("ix_studio_metric_snapshots_published_post_id"), "studio_metric_snapshots", ["published_post_id"]
    )
    op.create_table(
        "studio_youtube_quota",
        sa.Column("date", sa.String(length=10), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_youtube_quota")),
        sa.UniqueConstraint("date", "bucket", name=op.f("uq_studio_youtube_quota_date_bucket")),
    )
    op.create_index(op.f("ix_studio_youtube_quota_date"), "studio_youtube_quota", ["date"])


def create_workflows_tables():
    """Workflows: templates, steps, credentials, runs."""
    op.create_table(
        "workflow_credentials",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("header_name", sa.String(length=80), nullable=True),
        sa.Column("username", sa.String(length=120), nullable=True),
        sa.Column("connection_id", BIGID, nullable=True),
        sa.Column("fingerprint", sa.String(length=32), nullable=False),
        sa.Column("last_used_at", WHEN, nullable=True),
        sa.Column("revoked_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("secret_iv", sa.LargeBinary(), nullable=True),
        sa.Column("secret_tag", sa.LargeBinary(), nullable=True),
        sa.Column("secret_key_id", sa.String(length=16), nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("workflow_credentials", "created_by_id", "users", "SET NULL"),
        fk("workflow_credentials", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_credentials")),
        sa.UniqueConstraint("organization_id", "name", name=op.f("uq_workflow_credentials_organization_id_name")),
    )
    op.create_index(op.f("ix_workflow_credentials_organization_id"), "workflow_credentials", ["organization_id"])
    op.create_table(
        "workflow_templates",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("install_count", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_templates")),
        sa.UniqueConstraint("slug", name=op.f("uq_workflow_templates_slug")),
    )
    op.create_table(
        "workflows",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("trigger_type", sa.String(length=16), nullable=False),
        sa.Column("trigger_config", sa.JSON(), nullable=False),
        sa.Column("next_run_at", WHEN, nullable=True),
        sa.Column("max_concurrency", sa.Integer(), nullable=False),
        sa.Column("template_id", BIGID, nullable=True),
        sa.Column("last_run_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("webhook_secret_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("webhook_secret_iv", sa.LargeBinary(), nullable=True),
        sa.Column("webhook_secret_tag", sa.LargeBinary(), nullable=True),
        sa.Column("webhook_secret_key_id", sa.String(length=16), nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("workflows", "created_by_id", "users", "SET NULL"),
        fk("workflows", "organization_id", "organizations", "CASCADE"),
        fk("workflows", "template_id", "workflow_templates", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows")),
    )
    op.create_index("ix_workflows_due", "workflows", ["trigger_type", "enabled", "next_run_at"])
    op.create_index(op.f("ix_workflows_organization_id"), "workflows", ["organization_id"])
    op.create_table(
        "workflow_runs",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("workflow_id", BIGID, nullable=False),
        sa.Column("trigger_type", sa.String(length=16), nullable=False),
        sa.Column("trigger_payload", sa.JSON(), nullable=False),
        sa.Column("next_position", sa.Integer(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("resume_at", WHEN, nullable=True),
        sa.Column("failed_position", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("queued_at", WHEN, nullable=False),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", WHEN, nullable=True),
        sa.Column("lease_expiries", sa.Integer(), server_default="0", nullable=False),
        fk("workflow_runs", "organization_id", "organizations", "CASCADE"),
        fk("workflow_runs", "workflow_id", "workflows", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_runs")),
    )
    op.create_index(op.f("ix_workflow_runs_lease_expires_at"), "workflow_runs", ["lease_expires_at"])
    op.create_index(op.f("ix_workflow_runs_organization_id"), "workflow_runs", ["organization_id"])
    op.create_index(op.f("ix_workflow_runs_resume_at"), "workflow_runs", ["resume_at"])
    op.create_index(op.f("ix_workflow_runs_status"), "workflow_runs", ["status"])
    op.create_index(op.f("ix_workflow_runs_workflow_id"), "workflow_runs", ["workflow_id"])
    op.create_index("ix_workflow_runs_workflow_status", "workflow_runs", ["workflow_id", "status"])
    op.create_table(
        "workflow_credential_usages",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("credential_id", BIGID, nullable=False),
        sa.Column("workflow_id", BIGID, nullable=True),
        sa.Column("run_id", BIGID, nullable=True),
        sa.Column("step_position", sa.Integer(), nullable=True),
        sa.Column("used_at", WHEN, nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("workflow_credential_usages", "credential_id", "workflow_credentials", "CASCADE"),
        fk("workflow_credential_usages", "organization_id", "organizations", "CASCADE"),
        fk("workflow_credential_usages", "run_id", "workflow_runs", "SET NULL"),
        fk("workflow_credential_usages", "workflow_id", "workflows", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_credential_usages")),
    )
    op.create_index(
        op.f("ix_workflow_credential_usages_credential_id"), "workflow_credential_usages", ["credential_id"]
    )
    op.create_index(
        op.f("ix_workflow_credential_usages_organization_id"), "workflow_credential_usages", ["organization_id"]
    )
    op.create_table(
        "workflow_invoice_lines",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("workflow_id", BIGID, nullable=True),
        sa.Column("run_id", BIGID, nullable=True),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by_id", BIGID, nullable=True),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("billing_reference", sa.String(length=64), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("workflow_invoice_lines", "decided_by_id", "users", "SET NULL"),
        fk("workflow_invoice_lines", "organization_id", "organizations", "CASCADE"),
        fk("workflow_invoice_lines", "run_id", "workflow_runs", "SET NULL"),
        fk("workflow_invoice_lines", "workflow_id", "workflows", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_invoice_lines")),
    )
    op.create_index(op.f("ix_workflow_invoice_lines_organization_id"), "workflow_invoice_lines", ["organization_id"])
    op.create_index(op.f("ix_workflow_invoice_lines_status"), "workflow_invoice_lines", ["status"])
    op.create_table(
        "workflow_step_runs",
        sa.Column("run_id", BIGID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("step_type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("output_excerpt", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", WHEN, nullable=True),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("workflow_step_runs", "run_id", "workflow_runs", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_step_runs")),
    )
    op.create_index(op.f("ix_workflow_step_runs_run_id"), "workflow_step_runs", ["run_id"])
    op.create_table(
        "workflow_steps",
        sa.Column("workflow_id", BIGID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("credential_id", BIGID, nullable=True),
        sa.Column("credential_placeholder", sa.String(length=64), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("workflow_steps", "credential_id", "workflow_credentials", "SET NULL"),
        fk("workflow_steps", "workflow_id", "workflows", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_steps")),
    )
    op.create_index(op.f("ix_workflow_steps_workflow_id"), "workflow_steps", ["workflow_id"])


def create_developers_tables():
    """Developers: events and outbound webhooks."""
    op.create_table(
        "events",
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("api_version", sa.String(length=16), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("is_test", sa.Boolean(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("events", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("public_id", name=op.f("uq_events_public_id")),
    )
    op.create_index(op.f("ix_events_created_at"), "events", ["created_at"])
    op.create_index("ix_events_org_id", "events", ["organization_id", "id"])
    op.create_index("ix_events_org_type_id", "events", ["organization_id", "type", "id"])
    op.create_table(
        "webhook_endpoints",
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("ordered", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=300), nullable=True),
        sa.Column("secret_hint", sa.String(length=16), nullable=False),
        sa.Column("previous_secret_expires_at", WHEN, nullable=True),
        sa.Column("failing_since", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("secret_iv", sa.LargeBinary(), nullable=True),
        sa.Column("secret_tag", sa.LargeBinary(), nullable=True),
        sa.Column("secret_key_id", sa.String(length=16), nullable=True),
        sa.Column("previous_secret_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("previous_secret_iv", sa.LargeBinary(), nullable=True),
        sa.Column("previous_secret_tag", sa.LargeBinary(), nullable=True),
        sa.Column("previous_secret_key_id", sa.String(length=16), nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("webhook_endpoints", "created_by_id", "users", "SET NULL"),
        fk("webhook_endpoints", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index(op.f("ix_webhook_endpoints_organization_id"), "webhook_endpoints", ["organization_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("endpoint_id", BIGID, nullable=False),
        sa.Column("event_id", BIGID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=True),
        sa.Column("last_attempt_at", WHEN, nullable=True),
        sa.Column("delivered_at", WHEN, nullable=True),
        sa.Column("window_started_at", WHEN, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("webhook_deliveries", "endpoint_id", "webhook_endpoints", "CASCADE"),
        fk("webhook_deliveries", "event_id", "events", "CASCADE"),
        fk("webhook_deliveries", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_endpoint_status_id", "webhook_deliveries", ["endpoint_id", "status", "id"])
    op.create_index(op.f("ix_webhook_deliveries_event_id"), "webhook_deliveries", ["event_id"])
    op.create_index(op.f("ix_webhook_deliveries_organization_id"), "webhook_deliveries", ["organization_id"])
    op.create_table(
        "webhook_attempts",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("delivery_id", BIGID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("request_body", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=400), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_excerpt", sa.Text(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("webhook_attempts", "delivery_id", "webhook_deliveries", "CASCADE"),
        fk("webhook_attempts", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index(op.f("ix_webhook_attempts_delivery_id"), "webhook_attempts", ["delivery_id"])
    op.create_index(op.f("ix_webhook_attempts_organization_id"), "webhook_attempts", ["organization_id"])


def create_referrals_tables():
    """Referral programs, clicks, referrals and payouts."""
    op.create_table(
        "referral_programs",
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("custom_slug", sa.String(length=40), nullable=True),
        sa.Column("custom_message", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_earnings", BIGID, nullable=False),
        sa.Column("available_balance", BIGID, nullable=False),
        sa.Column("pending_payout", BIGID, nullable=False),
        sa.Column("paid_out", BIGID, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.CheckConstraint("available_balance >= 0", name=op.f("ck_referral_programs_available_not_negative")),
        sa.CheckConstraint("pending_payout >= 0", name=op.f("ck_referral_programs_pending_not_negative")),
        fk("referral_programs", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_programs")),
        sa.UniqueConstraint("code", name=op.f("uq_referral_programs_code")),
        sa.UniqueConstraint("custom_slug", name=op.f("uq_referral_programs_custom_slug")),
        sa.UniqueConstraint("user_id", name=op.f("uq_referral_programs_user_id")),
    )
    op.create_table(
        "referral_clicks",
        sa.Column("program_id", BIGID, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("campaign", sa.String(length=100), nullable=True),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("referral_clicks", "program_id", "referral_programs", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_clicks")),
    )
    op.create_index("ix_referral_clicks_program_created", "referral_clicks", ["program_id", "created_at"])
    op.create_table(
        "referral_payouts",
        sa.Column("program_id", BIGID, nullable=False),
        sa.Column("amount", BIGID, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("transaction_id", sa.String(length=128), nullable=True),
        sa.Column("requested_at", WHEN, nullable=False),
        sa.Column("processed_at", WHEN, nullable=True),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("canceled_at", WHEN, nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_referral_payouts_amount_positive")),
        fk("referral_payouts", "program_id", "referral_programs", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_payouts")),
    )
    op.create_index(op.f("ix_referral_payouts_program_id"), "referral_payouts", ["program_id"])
    op.create_index(op.f("ix_referral_payouts_status"), "referral_payouts", ["status"])
    op.create_table(
        "referrals",
        sa.Column("program_id", BIGID, nullable=False),
        sa.Column("click_id", BIGID, nullable=True),
        sa.Column("referee_email", sa.String(length=254), nullable=False),
        sa.Column("referee_user_id", BIGID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("campaign", sa.String(length=100), nullable=True),
        sa.Column("signup_at", WHEN, nullable=True),
        sa.Column("confirmed_at", WHEN, nullable=True),
        sa.Column("confirming_invoice_id", BIGID, nullable=True),
        sa.Column("reward_amount", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.Column("expired_at", WHEN, nullable=True),
        fk("referrals", "click_id", "referral_clicks", "SET NULL"),
        fk("referrals", "program_id", "referral_programs", "CASCADE"),
        fk("referrals", "referee_user_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    op.create_index(op.f("ix_referrals_program_id"), "referrals", ["program_id"])
    op.create_index(op.f("ix_referrals_referee_user_id"), "referrals", ["referee_user_id"])
    op.create_index(
        "uq_referrals_live_email",
        "referrals",
        ["referee_email"],
        unique=True,
        postgresql_where=sa.text("status <> 'EXPIRED'"),
        sqlite_where=sa.text("status <> 'EXPIRED'"),
    )


def create_support_tables():
    """Support tickets, their messages and attachments."""
    op.create_table(
        "support_tickets",
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("assigned_to_id", BIGID, nullable=True),
        sa.Column("first_response_at", WHEN, nullable=True),
        sa.Column("resolved_at", WHEN, nullable=True),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("last_activity_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("id", BIGID, nullable=False),
        fk("support_tickets", "assigned_to_id", "users", "SET NULL"),
        fk("support_tickets", "created_by_id", "users", "SET NULL"),
        fk("support_tickets", "organization_id", "organizations", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_tickets")),
    )
    op.create_index(op.f("ix_support_tickets_assigned_to_id"), "support_tickets", ["assigned_to_id"])
    op.create_index("ix_support_tickets_org_status", "support_tickets", ["organization_id", "status"])
    op.create_index(op.f("ix_support_tickets_organization_id"), "support_tickets", ["organization_id"])
    op.create_index("ix_support_tickets_status_id", "support_tickets", ["status", "id"])
    op.create_table(
        "support_attachments",
        sa.Column("ticket_id", BIGID, nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=500), nullable=False),
        sa.Column("uploaded_by_id", BIGID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("support_attachments", "ticket_id", "support_tickets", "CASCADE"),
        fk("support_attachments", "uploaded_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_attachments")),
    )
    op.create_index(op.f("ix_support_attachments_ticket_id"), "support_attachments", ["ticket_id"])
    op.create_table(
        "support_messages",
        sa.Column("ticket_id", BIGID, nullable=False),
        sa.Column("sender_id", BIGID, nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("is_internal", sa.Boolean(), nullable=False),
        sa.Column("is_staff", sa.Boolean(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("id", BIGID, nullable=False),
        fk("support_messages", "sender_id", "users", "SET NULL"),
        fk("support_messages", "ticket_id", "support_tickets", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_messages")),
    )
    op.create_index(op.f("ix_support_messages_sender_id"), "support_messages", ["sender_id"])
    op.create_index(op.f("ix_support_messages_ticket_id"), "support_messages", ["ticket_id"])


def upgrade():
    if postgres():
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {HISTORY_SCHEMA}")
    for create in (
        create_auth_tables,
        create_orgs_tables,
        create_projects_tables,
        create_files_tables,
        create_settings_tables,
        create_audit_tables,
        create_mail_tables,
        create_jobs_tables,
        create_alerts_tables,
        create_api_tables,
        create_notifications_tables,
        create_subscriptions_tables,
        create_usage_tables,
        create_billing_tables,
        create_ai_tables,
        create_integrations_tables,
        create_studio_tables,
        create_workflows_tables,
        create_developers_tables,
        create_referrals_tables,
        create_support_tables,
    ):
        create()


def downgrade():
    """Back to an empty database: the foreign keys that close a cycle, then every table, its dependents first."""
    if postgres():
        for table, column, target in LATE_FOREIGN_KEYS:
            op.drop_constraint(op.f(f"fk_{table}_{column}_{target}"), table, type_="foreignkey")
    existing = sa.MetaData()
    existing.reflect(op.get_bind())
    late = {(table, column) for table, column, _ in LATE_FOREIGN_KEYS}
    ordered = sa.schema.sort_tables(
        existing.tables.values(), skip_fn=lambda key: (key.parent.table.name, key.parent.name) in late
    )
    for table in reversed(ordered):
        if table.name != "alembic_version":
            op.drop_table(table.name)  # its indexes, triggers and partitions go with it
    if postgres():
        for function in (
            "billing_credit_note_line_immutable",
            "billing_credit_note_immutable",
            "billing_invoice_line_immutable",
            "billing_invoice_immutable",
            "audit_entries_append_only",
        ):
            op.execute(f"DROP FUNCTION {function}()")
        op.execute(f"DROP SCHEMA {HISTORY_SCHEMA}")
