"""Monthly partitions of the history tables on PostgreSQL: months ahead, the right partition, retention by
whole months, the DEFAULT partition emptied, the audit log still append-only on every partition."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.factories import make_org, make_user
from webapp.audit import record
from webapp.audit.models import AuditEntry
from webapp.core import partitions
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.models import OutboundCall
from webapp.mail.models import EmailMessage

pytestmark = pytest.mark.postgres


def _names(table: str) -> set[str]:
    return {p.name for p in partitions.partitions(table)}


def _call(at, org=None) -> OutboundCall:
    call = OutboundCall(
        organization_id=getattr(org, "id", None),
        provider="freee",
        action="company_read",
        method="GET",
        endpoint="https://api.freee.test/companies",
        created_at=at,
    )
    db.session.add(call)
    return call


def _message(at) -> EmailMessage:
    message = EmailMessage(
        to_address="someone@example.test",
        subject="Hello",
        template="test",
        html_body="<p>hi</p>",
        text_body="hi",
        created_at=at,
    )
    db.session.add(message)
    return message


def test_the_job_keeps_last_month_this_month_and_three_ahead_with_a_default(ctx):
    from webapp.jobs.partitions import maintain_partitions

    start = partitions.month_start(utcnow())
    months = [partitions.previous_month(start), start]
    for _ in range(partitions.MONTHS_AHEAD):
        months.append(partitions.next_month(months[-1]))
    furthest = partitions.month_name("outbound_calls", months[-1])
    db.session.execute(text(f'DROP TABLE {partitions.SCHEMA}."{furthest}"'))  # as if the job had not run yet
    db.session.commit()
    assert furthest not in _names("outbound_calls")
    early = _call(months[-1] + timedelta(days=2))  # a call of that month before its partition exists
    db.session.commit()
    assert partitions.partition_holding("outbound_calls", early.id) == "history.outbound_calls_default"

    maintain_partitions()
    assert partitions.partition_holding("outbound_calls", early.id) == f"history.{furthest}"
    for table in partitions.TABLES:
        names = _names(table)
        assert {partitions.month_name(table, m) for m in months} <= names, table
        assert partitions.default_name(table) in names
    created = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "maintenance.partitions_created"))
    assert created.details == {"outbound_calls": [furthest]}

    maintain_partitions()  # safe to run twice: nothing more to create
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "maintenance.partitions_created")) == 1


def test_rows_land_in_the_partition_of_their_month(ctx):
    owner = make_user()
    org = make_org(owner)
    now = utcnow()
    last_month = partitions.previous_month(partitions.month_start(now)) + timedelta(days=3)
    entry = record(owner, "test.happened", org)
    call, old_call = _call(now, org), _call(last_month, org)
    message = _message(now)
    db.session.commit()
    month = partitions.month_start(now)
    assert partitions.partition_holding("audit_entries", entry.id) == (
        f"history.{partitions.month_name('audit_entries', month)}"
    )
    assert partitions.partition_holding("outbound_calls", call.id) == (
        f"history.{partitions.month_name('outbound_calls', month)}"
    )
    assert partitions.partition_holding("outbound_calls", old_call.id) == (
        f"history.{partitions.month_name('outbound_calls', partitions.month_start(last_month))}"
    )
    assert partitions.partition_holding("email_messages", message.id) == (
        f"history.{partitions.month_name('email_messages', month)}"
    )
    # ids still come from one sequence per table, across partitions
    assert old_call.id == call.id + 1


def test_a_row_outside_every_month_lands_in_default_and_the_job_moves_it_to_its_month(ctx):
    from webapp.jobs.partitions import maintain_partitions

    far = utcnow().replace(year=utcnow().year + 6, day=10)
    entry = record(None, "test.far_future")
    entry.created_at = far
    call = _call(far)
    db.session.commit()
    assert partitions.partition_holding("audit_entries", entry.id) == "history.audit_entries_default"
    assert partitions.partition_holding("outbound_calls", call.id) == "history.outbound_calls_default"

    maintain_partitions()
    month = partitions.month_start(far)
    assert partitions.partition_holding("audit_entries", entry.id) == (
        f"history.{partitions.month_name('audit_entries', month)}"
    )
    assert partitions.partition_holding("outbound_calls", call.id) == (
        f"history.{partitions.month_name('outbound_calls', month)}"
    )
    moved = db.session.get(AuditEntry, entry.id)
    assert moved.action == "test.far_future" and moved.created_at == far  # copied, not changed
    assert db.session.scalar(text("SELECT count(*) FROM history.audit_entries_default")) == 0
    for table in ("audit_entries", "outbound_calls"):  # leave the shared schema as the migration made it
        db.session.execute(text(f'DROP TABLE history."{partitions.month_name(table, month)}"'))
    db.session.commit()


def test_call_log_retention_drops_only_whole_months_past_the_window(ctx):
    from webapp.integrations.jobs import CALL_LOG_DAYS, prune_outbound_calls

    now = utcnow()
    cutoff = now - timedelta(days=CALL_LOG_DAYS)
    window_month = partitions.month_start(cutoff)
    before_window = partitions.previous_month(window_month) + timedelta(days=2)
    long_ago = partitions.month_start(now - timedelta(days=200)) + timedelta(hours=5)
    gone = [_call(long_ago), _call(before_window)]
    # Same month as the cutoff: one call older than 90 days, one inside the window. The month has a
    # row inside the window, so it stays whole, the older call with it.
    older_in_month = window_month + (cutoff - window_month) / 2  # between the month's start and the cutoff, always
    kept = [_call(older_in_month), _call(cutoff + timedelta(hours=1)), _call(now)]
    db.session.commit()
    gone_ids, kept_ids = {c.id for c in gone}, {c.id for c in kept}
    partitions.split_default("outbound_calls")  # the old rows get their months (as the job does)
    db.session.commit()
    old_partitions = {partitions.month_name("outbound_calls", partitions.month_start(c.created_at)) for c in gone}
    assert old_partitions <= _names("outbound_calls")

    prune_outbound_calls()
    db.session.expire_all()
    assert set(db.session.scalars(select(OutboundCall.id))) == kept_ids
    assert not gone_ids & set(db.session.scalars(select(OutboundCall.id)))
    names = _names("outbound_calls")
    assert not old_partitions & names
    assert partitions.month_name("outbound_calls", window_month) in names
    assert all(p.start is None or p.end > cutoff for p in partitions.partitions("outbound_calls"))
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "maintenance.outbound_calls_pruned"))
    assert entry.details["deleted"] == 2 and set(entry.details["partitions"]) == old_partitions


def test_email_log_retention_follows_its_setting(ctx):
    from webapp.mail.jobs import prune_email_log
    from webapp.settings.services import update_setting

    now = utcnow()
    update_setting("mail.log_retention_days", "60", None)
    old = _message(partitions.month_start(now - timedelta(days=120)))
    recent = _message(now - timedelta(days=59))
    db.session.commit()
    old_id, recent_id = old.id, recent.id
    prune_email_log()
    db.session.expire_all()
    assert set(db.session.scalars(select(EmailMessage.id))) == {recent_id} and old_id != recent_id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "maintenance.email_log_pruned"))
    assert entry.details["deleted"] == 1 and entry.details["older_than_days"] == 60


@pytest.mark.parametrize("statement", ["UPDATE {t} SET action = 'changed'", "DELETE FROM {t}"])
def test_the_audit_log_refuses_changes_on_its_partitions_and_its_parent(ctx, statement):
    record(None, "test.kept")
    db.session.commit()
    month = partitions.month_name("audit_entries", partitions.month_start(utcnow()))
    for table in (f'history."{month}"', "audit_entries"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement.format(t=table)))
        db.session.rollback()
    assert db.session.scalar(select(AuditEntry.action)) == "test.kept"
