"""orgs: staff suspension of an organization, avatars and logos, what each e-mail was about and when it failed

Revision ID: 20261204_orgs_suspend_avatars
Revises: 20261204_billing_coupons
Create Date: 2026-12-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261204_orgs_suspend_avatars"
down_revision = "20261204_billing_coupons"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# (table, column, referenced table, on delete)
REFERENCES = (
    ("organizations", "suspended_by_id", "users", "SET NULL"),
    ("organizations", "logo_file_id", "file_uploads", "SET NULL"),
    ("users", "avatar_file_id", "file_uploads", "SET NULL"),
)


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("organizations", sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("organizations", sa.Column("suspended_reason", sa.Text(), nullable=True))
    for table, column, target, ondelete in REFERENCES:
        op.add_column(table, sa.Column(column, BIGID, nullable=True))
        if postgres:  # SQLite cannot add a constraint to an existing table without rebuilding it
            op.create_foreign_key(
                op.f(f"fk_{table}_{column}_{target}"), table, target, [column], ["id"], ondelete=ondelete
            )
    op.add_column("email_messages", sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("email_messages", sa.Column("about_type", sa.String(length=64), nullable=True))
    op.add_column("email_messages", sa.Column("about_id", BIGID, nullable=True))
    op.create_index("ix_email_messages_about", "email_messages", ["about_type", "about_id"], unique=False)


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.drop_index("ix_email_messages_about", table_name="email_messages")
    for column in ("about_id", "about_type", "failed_at"):
        op.drop_column("email_messages", column)
    for table, column, target, _ondelete in reversed(REFERENCES):
        if postgres:
            op.drop_constraint(op.f(f"fk_{table}_{column}_{target}"), table, type_="foreignkey")
        op.drop_column(table, column)
    op.drop_column("organizations", "suspended_reason")
    op.drop_column("organizations", "suspended_at")
