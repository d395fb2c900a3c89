"""streams: the sandbox tables leave the product's schema

Revision ID: 20261202_streams_sandboxes_out
Revises: 20261202_01_baseline
Create Date: 2026-12-02 16:00:00

The built-in provider sandboxes now run as their own process with their own database
(``SANDBOX_DATABASE_URL``, created by that process), so the product's schema holds no
``sandbox_*`` table. Their rows were a stand-in provider's state, never the product's data, so
they are dropped, not moved; the downgrade recreates them empty.
"""
from alembic import op
import sqlalchemy as sa

revision = "20261202_streams_sandboxes_out"
down_revision = "20261202_01_baseline"
branch_labels = None
depends_on = None

TABLES = (
    "sandbox_paynow_transactions",
    "sandbox_google_drive_tokens",
    "sandbox_google_drive_files",
    "sandbox_google_drive_faults",
    "sandbox_freee_tokens",
    "sandbox_freee_records",
    "sandbox_freee_faults",
    "sandbox_freee_companies",
)


def upgrade():
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name in TABLES:
        if name in existing:
            op.drop_table(name)


def downgrade():
    op.create_table('sandbox_freee_companies',
    sa.Column('company_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_freee_companies')),
    sa.UniqueConstraint('company_id', name=op.f('uq_sandbox_freee_companies_company_id'))
    )
    op.create_table('sandbox_freee_faults',
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('times', sa.Integer(), nullable=False),
    sa.Column('retry_after', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_freee_faults'))
    )
    op.create_table('sandbox_freee_records',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('company_id', sa.BigInteger(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=True),
    sa.Column('sort_date', sa.String(length=10), nullable=False),
    sa.Column('updated', sa.String(length=32), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_freee_records'))
    )
    with op.batch_alter_table('sandbox_freee_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_freee_records_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sandbox_freee_records_kind'), ['kind'], unique=False)

    op.create_table('sandbox_freee_tokens',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('grant', sa.String(length=32), nullable=False),
    sa.Column('client_id', sa.String(length=128), nullable=False),
    sa.Column('account', sa.String(length=128), nullable=False),
    sa.Column('scope', sa.String(length=500), nullable=False),
    sa.Column('redirect_uri', sa.String(length=500), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_freee_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sandbox_freee_tokens_token_hash'))
    )
    with op.batch_alter_table('sandbox_freee_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_freee_tokens_grant'), ['grant'], unique=False)

    op.create_table('sandbox_google_drive_faults',
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('times', sa.Integer(), nullable=False),
    sa.Column('retry_after', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_google_drive_faults'))
    )
    op.create_table('sandbox_google_drive_files',
    sa.Column('account', sa.String(length=128), nullable=False),
    sa.Column('file_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('mime_type', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('parent_id', sa.String(length=64), nullable=True),
    sa.Column('created_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('modified_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.Column('change_seq', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_google_drive_files')),
    sa.UniqueConstraint('file_id', name=op.f('uq_sandbox_google_drive_files_file_id'))
    )
    with op.batch_alter_table('sandbox_google_drive_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_google_drive_files_account'), ['account'], unique=False)
        batch_op.create_index(batch_op.f('ix_sandbox_google_drive_files_change_seq'), ['change_seq'], unique=False)

    op.create_table('sandbox_google_drive_tokens',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('grant', sa.String(length=32), nullable=False),
    sa.Column('client_id', sa.String(length=128), nullable=False),
    sa.Column('account', sa.String(length=128), nullable=False),
    sa.Column('scope', sa.String(length=500), nullable=False),
    sa.Column('redirect_uri', sa.String(length=500), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_google_drive_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sandbox_google_drive_tokens_token_hash'))
    )
    with op.batch_alter_table('sandbox_google_drive_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sandbox_google_drive_tokens_grant'), ['grant'], unique=False)

    op.create_table('sandbox_paynow_transactions',
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('integration_id', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('paynow_reference', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.String(length=20), nullable=False),
    sa.Column('additional_info', sa.Text(), nullable=True),
    sa.Column('auth_email', sa.String(length=254), nullable=True),
    sa.Column('return_url', sa.String(length=500), nullable=True),
    sa.Column('result_url', sa.String(length=500), nullable=True),
    sa.Column('method', sa.String(length=20), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('polls', sa.Integer(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_paynow_transactions')),
    sa.UniqueConstraint('token', name=op.f('uq_sandbox_paynow_transactions_token'))
    )
