"""ai: the last AI answer a form asked for (caption, workflow draft), per organization, member and kind, so the
page showing it is a GET and a reload never asks the AI again

Revision ID: 20261204_ai_results
Revises: 20261204_orgs_address
Create Date: 2026-12-04 09:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261204_ai_results"
down_revision = "20261204_orgs_address"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "ai_results",
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_ai_results_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ai_results_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_results")),
    )
    with op.batch_alter_table("ai_results") as batch:
        batch.create_index("ix_ai_results_org_user_kind", ["organization_id", "user_id", "kind"], unique=False)


def downgrade():
    op.drop_table("ai_results")
