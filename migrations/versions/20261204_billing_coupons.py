"""subscriptions: coupons, their plan restrictions, promotion codes and subscription discounts

Revision ID: 20261204_billing_coupons
Revises: 20261203_studio_queue
Create Date: 2026-12-04 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "20261204_billing_coupons"
down_revision = "20261203_studio_queue"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _when():
    return sa.DateTime(timezone=True)


def upgrade():
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
        sa.Column("redeem_by", _when(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("deactivated_at", _when(), nullable=True),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.CheckConstraint("(percent_off_bps IS NULL) <> (amount_off IS NULL)", name="ck_coupons_percent_or_amount"),
        sa.CheckConstraint("percent_off_bps IS NULL OR (percent_off_bps BETWEEN 1 AND 10000)", name="ck_coupons_bps"),
        sa.CheckConstraint("amount_off IS NULL OR (amount_off > 0 AND currency IS NOT NULL)", name="ck_coupons_amount"),
        sa.CheckConstraint("times_redeemed >= 0", name="ck_coupons_times_redeemed"),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_coupons_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
    )
    op.create_table(
        "coupon_plans",
        sa.Column("coupon_id", BIGID, nullable=False),
        sa.Column("plan_id", BIGID, nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.id"], name=op.f("fk_coupon_plans_coupon_id_coupons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_coupon_plans_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("coupon_id", "plan_id", name=op.f("pk_coupon_plans")),
    )
    op.create_table(
        "promotion_codes",
        sa.Column("coupon_id", BIGID, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("times_redeemed", sa.Integer(), nullable=False),
        sa.Column("expires_at", _when(), nullable=True),
        sa.Column("deactivated_at", _when(), nullable=True),
        sa.Column("created_by_id", BIGID, nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.CheckConstraint("times_redeemed >= 0", name="ck_promotion_codes_times_redeemed"),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.id"], name=op.f("fk_promotion_codes_coupon_id_coupons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_promotion_codes_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_promotion_codes_code")),
    )
    with op.batch_alter_table("promotion_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promotion_codes_coupon_id"), ["coupon_id"], unique=False)

    op.create_table(
        "subscription_discounts",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("subscription_id", BIGID, nullable=False),
        sa.Column("coupon_id", BIGID, nullable=False),
        sa.Column("promotion_code_id", BIGID, nullable=True),
        sa.Column("start", _when(), nullable=False),
        sa.Column("end", _when(), nullable=True),
        sa.Column("ended_at", _when(), nullable=True),
        sa.Column("invoices_discounted", sa.Integer(), nullable=False),
        sa.Column("redeemed_by_id", BIGID, nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("id", BIGID, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_subscription_discounts_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_discounts_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.id"], name=op.f("fk_subscription_discounts_coupon_id_coupons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["promotion_code_id"],
            ["promotion_codes.id"],
            name=op.f("fk_subscription_discounts_promotion_code_id_promotion_codes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["redeemed_by_id"],
            ["users.id"],
            name=op.f("fk_subscription_discounts_redeemed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_discounts")),
        sa.UniqueConstraint("coupon_id", "organization_id", name="uq_subscription_discounts_coupon_org"),
    )
    with op.batch_alter_table("subscription_discounts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscription_discounts_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_subscription_discounts_coupon_id"), ["coupon_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_subscription_discounts_promotion_code_id"), ["promotion_code_id"], unique=False
        )
        batch_op.create_index(
            "uq_subscription_discounts_live_per_subscription",
            ["subscription_id"],
            unique=True,
            postgresql_where=sa.text("ended_at IS NULL"),
            sqlite_where=sa.text("ended_at IS NULL"),
        )


def downgrade():
    op.drop_table("subscription_discounts")
    op.drop_table("promotion_codes")
    op.drop_table("coupon_plans")
    op.drop_table("coupons")
