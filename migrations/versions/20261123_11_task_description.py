"""tasks get a description

Revision ID: 20261123_11_task_description
Revises: 20261123_05_integrations
Create Date: 2026-11-23 10:05:00

"""
import sqlalchemy as sa
from alembic import op

revision = "20261123_11_task_description"
down_revision = "20261123_05_integrations"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("description", sa.Text(), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("description")
