"""billing: billed periods (a period of a billable thing is billed at most once), the run's
one-invoice-per-account-and-period unique key relaxed

Revision ID: 20261203_billing_billed_periods
Revises: 20261203_jobs_outbox
Create Date: 2026-12-03 10:00:00

``billing_billed_periods`` records what each line bills (``service:<id>``, ``subscription:<id>``,
``subscription:<id>:upgrade:<plan>``, ``usage:<org>:<metric>``) and for which dates. On PostgreSQL an
exclusion constraint (btree_gist) refuses two live rows (``released_at`` NULL) with the same key and
overlapping dates, so no race can bill a day twice.

Existing lines are backfilled: every service and subscription line of an invoice that is not void,
oldest line first, claims its invoice's period; a later line that overlaps one already claimed (a
period billed twice before this migration) is left unclaimed, so the upgrade never fails on history.
"""

import sqlalchemy as sa
from alembic import op

revision = "20261203_billing_billed_periods"
down_revision = "20261203_jobs_outbox"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

EXCLUDE = """
ALTER TABLE billing_billed_periods ADD CONSTRAINT ex_billing_billed_periods_live_overlap
  EXCLUDE USING gist (billable_key WITH =, daterange(start_date, end_date, '[]') WITH &&)
  WHERE (released_at IS NULL)
"""

BACKFILL = """
INSERT INTO billing_billed_periods
  (created_at, updated_at, organization_id, line_id, invoice_id, account_id, billable_key, start_date, end_date)
SELECT now(), now(), i.organization_id, l.id, i.id, i.account_id,
       CASE WHEN l.service_id IS NOT NULL THEN 'service:' || l.service_id
            ELSE 'subscription:' || l.subscription_id END,
       i.period_start,
       CASE WHEN l.service_id IS NULL AND i.period_end > i.period_start THEN i.period_end - 1
            ELSE i.period_end END
FROM billing_invoice_lines l JOIN billing_invoices i ON i.id = l.invoice_id
WHERE i.status <> 'VOID' AND (l.service_id IS NOT NULL OR l.subscription_id IS NOT NULL) AND l.total > 0
ORDER BY l.id
ON CONFLICT DO NOTHING
"""


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "billing_billed_periods",
        sa.Column("line_id", BigId, nullable=False),
        sa.Column("invoice_id", BigId, nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("billable_key", sa.String(length=120), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.String(length=200), nullable=True),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", BigId, nullable=False),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.CheckConstraint("end_date >= start_date", name="ck_billing_billed_periods_dates"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["billing_accounts.id"],
            name=op.f("fk_billing_billed_periods_account_id_billing_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_billing_billed_periods_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["billing_invoices.id"],
            name=op.f("fk_billing_billed_periods_invoice_id_billing_invoices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["billing_invoice_lines.id"],
            name=op.f("fk_billing_billed_periods_line_id_billing_invoice_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_billing_billed_periods_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_billed_periods")),
        sa.UniqueConstraint("line_id", name=op.f("uq_billing_billed_periods_line_id")),
    )
    with op.batch_alter_table("billing_billed_periods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_billing_billed_periods_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_billing_billed_periods_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_billing_billed_periods_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index("ix_billing_billed_periods_key_start", ["billable_key", "start_date"], unique=False)
    with op.batch_alter_table("billing_invoices", schema=None) as batch_op:
        batch_op.drop_constraint("uq_billing_invoices_account_run_period", type_="unique")
        batch_op.create_index("ix_billing_invoices_account_run_period", ["account_id", "run_period"], unique=False)
    with op.batch_alter_table("billing_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report", sa.JSON(), nullable=False, server_default="[]"))
    if postgres:
        op.execute(EXCLUDE)
        op.execute(BACKFILL)


def downgrade():
    with op.batch_alter_table("billing_runs", schema=None) as batch_op:
        batch_op.drop_column("report")
    with op.batch_alter_table("billing_invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_billing_invoices_account_run_period")
        batch_op.create_unique_constraint("uq_billing_invoices_account_run_period", ["account_id", "run_period"])
    op.drop_table("billing_billed_periods")
