"""billing: accounts, services, invoices (immutable once finalized), lines, payments, credits, runs

Revision ID: 20261123_03_billing
Revises: 20261123_02_outbound_calls
Create Date: 2026-11-23 09:50:00

"""
from alembic import op
import sqlalchemy as sa

revision = "20261123_03_billing"
down_revision = "20261123_02_outbound_calls"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _timestamps():
    return [sa.Column("created_at", TS, nullable=False), sa.Column("updated_at", TS, nullable=False)]


def _org_owned(table):
    return [
        sa.Column("organization_id", BigId, nullable=False),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], name=f"fk_{table}_organization_id_organizations", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=f"fk_{table}_created_by_id_users", ondelete="SET NULL"),
    ]


FROZEN = (
    "number", "organization_id", "account_id", "subscription_id", "currency", "period_start", "period_end",
    "subtotal", "tax_rate_bps", "tax", "total", "issued_at", "due_at", "finalized_at",
)

TRIGGERS = """
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


def upgrade():
    op.create_table(
        "billing_accounts",
        sa.Column("id", BigId, nullable=False),
        *_timestamps(),
        *_org_owned("billing_accounts"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("grace_period_days", sa.Integer(), nullable=False),
        sa.Column("credit_balance", BigId, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("overdue_since", TS, nullable=True),
        sa.Column("suspended_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_billing_accounts"),
        sa.UniqueConstraint("organization_id", name="uq_billing_accounts_organization_id"),
    )
    op.create_index("ix_billing_accounts_organization_id", "billing_accounts", ["organization_id"])
    op.create_index("ix_billing_accounts_status", "billing_accounts", ["status"])

    op.create_table(
        "billing_services",
        sa.Column("id", BigId, nullable=False),
        *_timestamps(),
        *_org_owned("billing_services"),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("hardware_serial", sa.String(64), nullable=True),
        sa.Column("monthly_fee", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("activated_at", TS, nullable=False),
        sa.Column("suspended_at", TS, nullable=True),
        sa.Column("cancelled_at", TS, nullable=True),
        sa.Column("suspended_by_dunning", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_billing_services"),
    )
    for col in ("organization_id", "type", "hardware_serial", "status"):
        op.create_index(f"ix_billing_services_{col}", "billing_services", [col])

    op.create_table(
        "billing_invoices",
        sa.Column("id", BigId, nullable=False),
        *_timestamps(),
        *_org_owned("billing_invoices"),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("run_period", sa.String(7), nullable=True),
        sa.Column("subscription_id", BigId, nullable=True),
        sa.Column("subtotal", BigId, nullable=False),
        sa.Column("tax_rate_bps", sa.Integer(), nullable=False),
        sa.Column("tax", BigId, nullable=False),
        sa.Column("total", BigId, nullable=False),
        sa.Column("amount_paid", BigId, nullable=False),
        sa.Column("amount_due", BigId, nullable=False),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("finalized_at", TS, nullable=True),
        sa.Column("issued_at", TS, nullable=True),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("paid_at", TS, nullable=True),
        sa.Column("voided_at", TS, nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("overdue_at", TS, nullable=True),
        sa.Column("reminder_sent_at", TS, nullable=True),
        sa.Column("payment_token", sa.String(64), nullable=True),
        sa.Column("payment_token_expires_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["billing_accounts.id"], name="fk_billing_invoices_account_id_billing_accounts", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_billing_invoices"),
        sa.UniqueConstraint("number", name="uq_billing_invoices_number"),
        sa.UniqueConstraint("payment_token", name="uq_billing_invoices_payment_token"),
        sa.UniqueConstraint("account_id", "run_period", name="uq_billing_invoices_account_run_period"),
    )
    for col in ("organization_id", "account_id", "status", "due_at"):
        op.create_index(f"ix_billing_invoices_{col}", "billing_invoices", [col])

    op.create_table(
        "billing_invoice_lines",
        sa.Column("id", BigId, nullable=False),
        *_timestamps(),
        sa.Column("invoice_id", BigId, nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", BigId, nullable=False),
        sa.Column("total", BigId, nullable=False),
        sa.Column("service_id", BigId, nullable=True),
        sa.Column("metric", sa.String(64), nullable=True),
        sa.Column("subscription_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(["invoice_id"], ["billing_invoices.id"], name="fk_billing_invoice_lines_invoice_id_billing_invoices", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["service_id"], ["billing_services.id"], name="fk_billing_invoice_lines_service_id_billing_services", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_billing_invoice_lines"),
    )
    op.create_index("ix_billing_invoice_lines_invoice_id", "billing_invoice_lines", ["invoice_id"])
    op.create_index("ix_billing_invoice_lines_service_id", "billing_invoice_lines", ["service_id"])

    op.create_table(
        "billing_invoice_counters",
        sa.Column("id", BigId, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_billing_invoice_counters"),
        sa.UniqueConstraint("year", name="uq_billing_invoice_counters_year"),
    )

    op.create_table(
        "billing_payments",
        sa.Column("id", BigId, nullable=False),
        *_timestamps(),
        *_org_owned("billing_payments"),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("invoice_id", BigId, nullable=True),
        sa.Column("amount", BigId, nullable=False),
        sa.Column("applied_amount", BigId, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("method", sa.String(24), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("external_reference", sa.String(120), nullable=True),
        sa.Column("provider_reference", sa.String(120), nullable=True),
        sa.Column("poll_url", sa.String(500), nullable=True),
        sa.Column("external_status", sa.String(40), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("reference", sa.String(120), nullable=True),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("initiated_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("failed_at", TS, nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["billing_accounts.id"], name="fk_billing_payments_account_id_billing_accounts", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invoice_id"], ["billing_invoices.id"], name="fk_billing_payments_invoice_id_billing_invoices", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_billing_payments"),
        sa.UniqueConstraint("provider", "external_reference", name="uq_billing_payments_provider_ref"),
    )
    for col in ("organization_id", "account_id", "invoice_id", "status"):
        op.create_index(f"ix_billing_payments_{col}", "billing_payments", [col])

    op.create_table(
        "billing_credits",
        sa.Column("id", BigId, nullable=False),
        *_timestamps(),
        *_org_owned("billing_credits"),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("invoice_id", BigId, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", BigId, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("issued_by_id", BigId, nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["billing_accounts.id"], name="fk_billing_credits_account_id_billing_accounts", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["invoice_id"], ["billing_invoices.id"], name="fk_billing_credits_invoice_id_billing_invoices", ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["issued_by_id"], ["users.id"], name="fk_billing_credits_issued_by_id_users", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_billing_credits"),
    )
    for col in ("organization_id", "account_id", "invoice_id"):
        op.create_index(f"ix_billing_credits_{col}", "billing_credits", [col])

    op.create_table(
        "billing_runs",
        sa.Column("id", BigId, nullable=False),
        *_timestamps(),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("started_by_id", BigId, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("queued_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("completed_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["started_by_id"], ["users.id"], name="fk_billing_runs_started_by_id_users", ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name="pk_billing_runs"),
    )
    op.create_index("ix_billing_runs_period", "billing_runs", ["period"])
    op.create_index("ix_billing_runs_status", "billing_runs", ["status"])

    op.create_table(
        "sandbox_paynow_transactions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("integration_id", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(120), nullable=False),
        sa.Column("paynow_reference", sa.String(32), nullable=False),
        sa.Column("amount", sa.String(20), nullable=False),
        sa.Column("additional_info", sa.Text(), nullable=True),
        sa.Column("auth_email", sa.String(254), nullable=True),
        sa.Column("return_url", sa.String(500), nullable=True),
        sa.Column("result_url", sa.String(500), nullable=True),
        sa.Column("method", sa.String(20), nullable=True),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("ready_at", TS, nullable=True),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_paynow_transactions"),
        sa.UniqueConstraint("token", name="uq_sandbox_paynow_transactions_token"),
    )

    if op.get_bind().dialect.name == "postgresql":
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FROZEN)
        op.execute(TRIGGERS.replace("{changed}", changed))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS billing_invoice_lines_immutable ON billing_invoice_lines")
        op.execute("DROP TRIGGER IF EXISTS billing_invoices_immutable ON billing_invoices")
        op.execute("DROP FUNCTION IF EXISTS billing_invoice_line_immutable()")
        op.execute("DROP FUNCTION IF EXISTS billing_invoice_immutable()")
    for table in (
        "sandbox_paynow_transactions",
        "billing_runs",
        "billing_credits",
        "billing_payments",
        "billing_invoice_counters",
        "billing_invoice_lines",
        "billing_invoices",
        "billing_services",
        "billing_accounts",
    ):
        op.drop_table(table)
