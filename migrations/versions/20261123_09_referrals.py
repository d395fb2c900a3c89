"""referrals: programs, clicks, referrals, payouts

Revision ID: 20261123_09_referrals
Revises: 20261123_02_outbound_calls
Create Date: 2026-11-23 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "20261123_09_referrals"
down_revision = "20261123_02_outbound_calls"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "referral_programs",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("user_id", BigId, sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_referral_programs_user_id_users"),
                  nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("custom_slug", sa.String(40), nullable=True),
        sa.Column("custom_message", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_earnings", BigId, nullable=False),
        sa.Column("available_balance", BigId, nullable=False),
        sa.Column("pending_payout", BigId, nullable=False),
        sa.Column("paid_out", BigId, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("available_balance >= 0", name="ck_referral_programs_available_not_negative"),
        sa.CheckConstraint("pending_payout >= 0", name="ck_referral_programs_pending_not_negative"),
        sa.UniqueConstraint("user_id", name="uq_referral_programs_user_id"),
        sa.UniqueConstraint("code", name="uq_referral_programs_code"),
        sa.UniqueConstraint("custom_slug", name="uq_referral_programs_custom_slug"),
    )
    op.create_table(
        "referral_clicks",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("program_id", BigId, sa.ForeignKey("referral_programs.id", ondelete="CASCADE",
                  name="fk_referral_clicks_program_id_referral_programs"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(100), nullable=True),
        sa.Column("campaign", sa.String(100), nullable=True),
        sa.Column("ip_address", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
    )
    op.create_index("ix_referral_clicks_program_created", "referral_clicks", ["program_id", "created_at"])
    op.create_table(
        "referrals",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("program_id", BigId, sa.ForeignKey("referral_programs.id", ondelete="CASCADE",
                  name="fk_referrals_program_id_referral_programs"), nullable=False),
        sa.Column("click_id", BigId, sa.ForeignKey("referral_clicks.id", ondelete="SET NULL",
                  name="fk_referrals_click_id_referral_clicks"), nullable=True),
        sa.Column("referee_email", sa.String(254), nullable=False),
        sa.Column("referee_user_id", BigId, sa.ForeignKey("users.id", ondelete="SET NULL",
                  name="fk_referrals_referee_user_id_users"), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(100), nullable=True),
        sa.Column("campaign", sa.String(100), nullable=True),
        sa.Column("signup_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirming_invoice_id", BigId, nullable=True),
        sa.Column("reward_amount", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("referee_email", name="uq_referrals_referee_email"),
    )
    op.create_index("ix_referrals_program_id", "referrals", ["program_id"])
    op.create_index("ix_referrals_referee_user_id", "referrals", ["referee_user_id"])
    op.create_table(
        "referral_payouts",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("program_id", BigId, sa.ForeignKey("referral_programs.id", ondelete="CASCADE",
                  name="fk_referral_payouts_program_id_referral_programs"), nullable=False),
        sa.Column("amount", BigId, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("transaction_id", sa.String(128), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_referral_payouts_amount_positive"),
    )
    op.create_index("ix_referral_payouts_program_id", "referral_payouts", ["program_id"])
    op.create_index("ix_referral_payouts_status", "referral_payouts", ["status"])


def downgrade():
    op.drop_table("referral_payouts")
    op.drop_table("referrals")
    op.drop_table("referral_clicks")
    op.drop_table("referral_programs")
