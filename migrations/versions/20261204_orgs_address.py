"""orgs: the organization's postal address and phone (seed 001), shown on its invoices and credit notes

Revision ID: 20261204_orgs_address
Revises: 20261204_ai_services
Create Date: 2026-12-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261204_orgs_address"
down_revision = "20261204_ai_services"
branch_labels = None
depends_on = None

COLUMNS = (("phone", 32), ("address_line", 200), ("city", 100), ("postal_code", 16))


def upgrade():
    with op.batch_alter_table("organizations") as batch:
        for name, length in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length), nullable=True))


def downgrade():
    with op.batch_alter_table("organizations") as batch:
        for name, _length in reversed(COLUMNS):
            batch.drop_column(name)
