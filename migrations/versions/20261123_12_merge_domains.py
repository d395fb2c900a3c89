"""merge the domain branches into one head

Revision ID: 20261123_12_merge_domains
Revises: each domain's migration
Create Date: 2026-11-23 10:45:00

Each domain's first migration branched from the outbound-call log so they could be written side by
side; this revision joins them so `flask db upgrade` has one head to go to.
"""

revision = "20261123_12_merge_domains"
down_revision = (
    "20261123_03_billing",
    "20261123_04_subscriptions",
    "20261123_06_studio",
    "20261123_07_support",
    "20261123_08_workflows",
    "20261123_09_referrals",
    "20261123_10_files",
    "20261123_11_task_description",
)
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
