"""security: the e-mail log keeps one-time links redacted (live parts encrypted until sent), and
TOTP recovery codes

Revision ID: 20261202_security_recovery
Revises: 20261202_payments_credit_notes
Create Date: 2026-12-02 20:10:00

Existing log rows are scrubbed: the token of every reset, verification, invitation and payment link
in a stored subject or body becomes ``[redacted]``. A message still queued at upgrade time is then
delivered with the redacted link; its recipient asks for a new one.
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "20261202_security_recovery"
down_revision = "20261202_payments_credit_notes"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SECRET_LINK = re.compile(r"(/auth/verify/|/auth/reset/|/invitations/|/pay/)[A-Za-z0-9_\-]{8,}")


def _scrub(value):
    return SECRET_LINK.sub(r"\1[redacted]", value) if value else value


def upgrade():
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("live_body_ciphertext", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("live_body_iv", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("live_body_tag", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("live_body_key_id", sa.String(length=16), nullable=True))

    op.create_table(
        "user_recovery_codes",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_recovery_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_user_recovery_codes_code_hash")),
    )
    with op.batch_alter_table("user_recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_recovery_codes_user_id"), ["user_id"], unique=False)

    connection = op.get_bind()
    messages = sa.table(
        "email_messages",
        sa.column("id", BigId),
        sa.column("subject", sa.String),
        sa.column("html_body", sa.Text),
        sa.column("text_body", sa.Text),
    )
    rows = connection.execute(sa.select(messages.c.id, messages.c.subject, messages.c.html_body, messages.c.text_body))
    for row in rows.fetchall():
        scrubbed = {
            "subject": _scrub(row.subject),
            "html_body": _scrub(row.html_body),
            "text_body": _scrub(row.text_body),
        }
        if scrubbed != {"subject": row.subject, "html_body": row.html_body, "text_body": row.text_body}:
            connection.execute(sa.update(messages).where(messages.c.id == row.id).values(**scrubbed))


def downgrade():
    with op.batch_alter_table("user_recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_recovery_codes_user_id"))
    op.drop_table("user_recovery_codes")
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.drop_column("live_body_key_id")
        batch_op.drop_column("live_body_tag")
        batch_op.drop_column("live_body_iv")
        batch_op.drop_column("live_body_ciphertext")
