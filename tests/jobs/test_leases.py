"""The lease on run rows: claim, heartbeat, release, and the sweeper's handling of each run type
whose worker died (sync jobs, billing runs, file scans; workflow runs and publish targets are tested
with their domains)."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from tests.factories import make_org, make_user
from tests.integrations.sweep_samples import _connection
from webapp.audit.models import AuditEntry
from webapp.billing.jobs import billing_run_job
from webapp.billing.models import BillingRun
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.files.models import FileUpload, StorageUsage
from webapp.integrations import services as integrations
from webapp.integrations.models import Connection, DriveSyncLog, FreeeSyncJob
from webapp.jobs import lease
from webapp.jobs.runner import get_queue
from webapp.settings.services import update_setting


@pytest.fixture
def team(ctx):
    owner = make_user("owner@leases.example")
    return owner, make_org(owner, "Leases Co", "leases-co")


def _expire(row, owner="dead-host:4242:0123456789abcdef", expiries=0):
    row.lease_owner, row.lease_expires_at, row.lease_expiries = owner, utcnow() - timedelta(seconds=1), expiries
    db.session.commit()


def _queued(queue: str) -> list[str]:
    return [job.func_name for job in get_queue(queue).jobs]


def _audit(row):
    return db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "job.lease_expired",
            AuditEntry.entity_type == type(row).__name__,
            AuditEntry.entity_id == row.id,
        )
    ).all()


# ----------------------------------------------------------------------------- the mechanism


def test_claim_is_exclusive_until_the_lease_runs_out(team):
    run = BillingRun(period="2026-11", status=BillingRun.QUEUED)
    db.session.add(run)
    db.session.commit()
    first = lease.claim(BillingRun, run.id)
    assert first and lease.claim(BillingRun, run.id) is None  # a second delivery finds it taken
    db.session.refresh(run)
    assert run.lease_owner == first and run.lease_expires_at > utcnow() + timedelta(seconds=50)
    run.lease_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    second = lease.claim(BillingRun, run.id)
    assert second and second != first  # its holder is gone: the next worker may take it
    assert lease.claim(BillingRun, run.id, BillingRun.status == BillingRun.SUCCEEDED) is None


def test_heartbeat_renews_until_released_and_notices_a_lost_lease(team):
    update_setting("jobs.lease_seconds", "2", None)
    db.session.commit()
    run = BillingRun(period="2026-11", status=BillingRun.QUEUED)
    db.session.add(run)
    db.session.commit()
    owner = lease.claim(BillingRun, run.id)
    beat = lease.Heartbeat(BillingRun, run.id, owner)
    assert beat.interval == 0.5
    first = db.session.scalar(select(BillingRun.lease_expires_at).where(BillingRun.id == run.id))
    assert beat.renew()
    db.session.expire_all()
    assert db.session.scalar(select(BillingRun.lease_expires_at).where(BillingRun.id == run.id)) > first
    with lease.held(BillingRun, run.id, owner) as held_beat:
        import time

        time.sleep(1.3)
        assert held_beat.beats >= 2 and not held_beat.lost
    db.session.commit()
    db.session.refresh(run)
    assert run.lease_owner is None and run.lease_expires_at is None
    assert not beat.renew()  # released: a heartbeat that outlived its job renews nothing


def test_held_releases_and_commits_when_the_job_raises(team):
    run = BillingRun(period="2026-11", status=BillingRun.QUEUED)
    db.session.add(run)
    db.session.commit()
    owner = lease.claim(BillingRun, run.id)
    with pytest.raises(RuntimeError), lease.held(BillingRun, run.id, owner):
        run.period = "1999-01"  # the job's half-done work is rolled back
        db.session.flush()
        raise RuntimeError("provider down")
    db.session.expire_all()
    run = db.session.get(BillingRun, run.id)
    assert run.period == "2026-11" and run.lease_owner is None
    assert lease.claim(BillingRun, run.id)  # the retry can take it at once


def test_sweep_leaves_live_leases_and_finished_rows_alone(team):
    live = BillingRun(period="2026-10", status=BillingRun.RUNNING)
    done = BillingRun(period="2026-09", status=BillingRun.SUCCEEDED)
    db.session.add_all([live, done])
    db.session.commit()
    lease.claim(BillingRun, live.id)
    _expire(done)  # the worker died after its last commit, before the release
    assert lease.sweep() == {"billing_runs": {"released": 1}}
    db.session.refresh(live)
    db.session.refresh(done)
    assert live.status == BillingRun.RUNNING and live.lease_owner is not None
    assert done.status == BillingRun.SUCCEEDED and done.lease_owner is None and not _audit(done)


@pytest.mark.postgres
def test_sweep_skips_a_row_that_a_live_transaction_holds_locked(team, app):
    run = BillingRun(period="2026-11", status=BillingRun.RUNNING)
    db.session.add(run)
    db.session.commit()
    _expire(run)
    with db.engine.connect() as other:
        other.execute(text("SELECT id FROM billing_runs WHERE id = :id FOR UPDATE"), {"id": run.id})
        assert lease.sweep() == {}  # someone is writing it: alive
        other.rollback()
    assert lease.sweep() == {"billing_runs": {"requeued": 1}}


# ----------------------------------------------------------------------------- each run type


def test_billing_run_is_requeued_and_finishes_then_fails_after_the_limit(team, run_jobs):
    run = BillingRun(period="2026-11", status=BillingRun.RUNNING)
    db.session.add(run)
    db.session.commit()
    _expire(run)
    assert lease.sweep() == {"billing_runs": {"requeued": 1}}
    db.session.refresh(run)
    assert run.status == BillingRun.QUEUED and run.lease_expiries == 1
    assert "queued again" in run.errors[-1]["message"]
    [entry] = _audit(run)
    assert entry.details["outcome"] == "requeued" and entry.details["worker"].startswith("dead-host:4242")
    run_jobs()
    db.session.refresh(run)
    assert run.status == BillingRun.SUCCEEDED and run.lease_owner is None

    stuck = BillingRun(period="2026-10", status=BillingRun.RUNNING, counts={"accounts": 500})
    db.session.add(stuck)
    db.session.commit()
    _expire(stuck, expiries=2)  # it died twice before: the third time is the last
    assert lease.sweep() == {"billing_runs": {"failed": 1}}
    db.session.refresh(stuck)
    assert stuck.status == BillingRun.FAILED and stuck.lease_expiries == 3
    assert "500 accounts done" in stuck.error_message and "3 times" in stuck.error_message
    billing_run_job(stuck.id)  # a late delivery of its job does nothing
    db.session.refresh(stuck)
    assert stuck.status == BillingRun.FAILED


def test_freee_import_is_requeued_but_an_export_fails_and_frees_the_connection(team):
    owner, org = team
    connection = _connection(org, owner, account="3003")
    connection.status = Connection.CONNECTED
    importing = FreeeSyncJob(
        organization_id=org.id, connection_id=connection.id, freee_company_id=3003, entity_types=["partners"]
    )
    db.session.add(importing)
    db.session.commit()
    importing.status = FreeeSyncJob.RUNNING
    _expire(importing)
    assert lease.sweep() == {"freee_sync_jobs": {"requeued": 1}}
    db.session.refresh(importing)
    assert importing.status == FreeeSyncJob.QUEUED
    assert _queued("integrations") == ["webapp.integrations.jobs.run_freee_sync"]

    importing.status, importing.direction, importing.progress = FreeeSyncJob.RUNNING, FreeeSyncJob.EXPORT, 40
    _expire(importing)
    assert lease.sweep() == {"freee_sync_jobs": {"failed": 1}}
    db.session.refresh(importing)
    assert importing.status == FreeeSyncJob.FAILED
    assert "40% done" in importing.error_message and "check freee" in importing.error_message
    started = integrations.start_freee_sync(connection, owner)  # the one-sync-per-connection slot is free
    assert started.status == FreeeSyncJob.QUEUED


def test_drive_sync_is_requeued(team):
    owner, org = team
    connection = _connection(org, owner, provider="google_drive", account="leases@drive.example")
    log = DriveSyncLog(organization_id=org.id, connection_id=connection.id, status=DriveSyncLog.RUNNING)
    db.session.add(log)
    db.session.commit()
    _expire(log)
    assert lease.sweep() == {"drive_sync_logs": {"requeued": 1}}
    db.session.refresh(log)
    assert log.status == DriveSyncLog.QUEUED and log.lease_owner is None
    assert _queued("integrations") == ["webapp.integrations.jobs.run_drive_sync"]


def _pending_upload(org, owner, size=100):
    upload = FileUpload(
        organization_id=org.id,
        created_by_id=owner.id,
        original_name="report.pdf",
        storage_key=f"org/{org.id}/report.pdf",
        size=size,
        mime_type="application/pdf",
        file_type="PROJECT_ASSET",
        status=FileUpload.SCAN_PENDING,
    )
    db.session.add(upload)
    db.session.add(StorageUsage(organization_id=org.id, category="project_assets", bytes_used=size, file_count=1))
    db.session.commit()
    return upload


def test_file_scan_is_requeued_then_fails_and_leaves_the_quota(team):
    owner, org = team
    upload = _pending_upload(org, owner)
    _expire(upload)
    assert lease.sweep() == {"file_uploads": {"requeued": 1}}
    assert _queued("default") == ["webapp.files.jobs.scan_upload"]
    db.session.refresh(upload)
    assert upload.status == FileUpload.SCAN_PENDING
    _expire(upload, expiries=upload.lease_expiries + 2)
    assert lease.sweep() == {"file_uploads": {"failed": 1}}
    db.session.refresh(upload)
    assert upload.status == FileUpload.FAILED and not upload.downloadable
    assert "worker stopped during the virus scan 4 times" in upload.scan_result
    usage = db.session.scalar(select(StorageUsage).where(StorageUsage.organization_id == org.id))
    assert (usage.bytes_used, usage.file_count) == (0, 0)
    assert lease.sweep() == {}


def test_sweeping_is_audited_without_an_actor(team):
    run = BillingRun(period="2026-11", status=BillingRun.RUNNING)
    db.session.add(run)
    db.session.commit()
    _expire(run)
    lease.sweep()
    [entry] = _audit(run)
    assert entry.actor_id is None and entry.details["table"] == "billing_runs"
    assert entry.details["reason"] == run.errors[-1]["message"]
