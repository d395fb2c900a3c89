"""i18n: the language a person reads their pages and e-mails in (none: the browser's choice)

Revision ID: 20261205_i18n_locale
Revises: 20261205_history_partitions
Create Date: 2026-12-05 01:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261205_i18n_locale"
down_revision = "20261205_history_partitions"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("locale", sa.String(length=8), nullable=True))


def downgrade():
    op.drop_column("users", "locale")
