from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import make_user
from tests.integrations.helpers import connect, owner_and_org
from webapp.audit.models import AuditEntry
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.models import Connection, FreeeSyncJob, OutboundCall


def test_staff_call_log_with_filters(client, make_client, ctx):
    _, org = owner_and_org(client)
    connect(client, org, "freee")
    connect(client, org, "google_drive")
    make_user("staff@example.com", staff=True)
    staff = make_client()
    staff.login("staff@example.com")
    everything = staff.get("/admin/calls/").get_data(as_text=True)
    assert "oauth_connected" in everything and "freee" in everything and "google_drive" in everything
    only_drive = staff.get("/admin/calls/?provider=google_drive").get_data(as_text=True)
    assert "about_read" in only_drive and "company_read" not in only_drive
    failed_only = staff.get("/admin/calls/?success=0").get_data(as_text=True)
    assert "oauth_connected" not in failed_only
    by_org = staff.get(f"/admin/calls/?org={org.slug}&action=company_read").get_data(as_text=True)
    assert "company_read" in by_org and "about_read" not in by_org
    assert staff.get("/admin/calls/?org=nobody").status_code == 200
    # customers do not see the console; the org page shows only its own calls
    assert client.get("/admin/calls/").status_code == 404
    own = client.get(f"/o/{org.slug}/integrations/calls?provider=freee").get_data(as_text=True)
    assert "company_read" in own and "about_read" not in own


def test_maintenance_jobs_prune_expire_and_audit(client, ctx):
    from webapp.integrations.jobs import expire_connections, prune_outbound_calls, prune_sync_jobs

    _, org = owner_and_org(client)
    conn = connect(client, org, "freee")
    old_call = db.session.scalars(select(OutboundCall)).first()
    # Past 90 days by more than a month: on PostgreSQL a month goes whole once its last day is 90 days
    # old (docs/partitioning.md), so a call 91 days old may still be kept, one 130 days old never is.
    old_call.created_at = utcnow() - timedelta(days=130)
    keep = db.session.scalar(select(func.count()).select_from(OutboundCall)) - 1
    conn.refresh_expires_at = utcnow() - timedelta(minutes=1)
    old = FreeeSyncJob(
        organization_id=org.id,
        connection_id=conn.id,
        freee_company_id=1001,
        entity_types=["partners"],
        status="SUCCEEDED",
        completed_at=utcnow() - timedelta(days=31),
    )
    recent = FreeeSyncJob(
        organization_id=org.id,
        connection_id=conn.id,
        freee_company_id=1001,
        entity_types=["partners"],
        status="SUCCEEDED",
        completed_at=utcnow() - timedelta(days=2),
    )
    failed = FreeeSyncJob(
        organization_id=org.id,
        connection_id=conn.id,
        freee_company_id=1001,
        entity_types=["partners"],
        status="FAILED",
        completed_at=utcnow() - timedelta(days=40),
    )
    db.session.add_all([old, recent, failed])
    db.session.commit()

    prune_outbound_calls()
    expire_connections()
    prune_sync_jobs()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(OutboundCall)) == keep
    assert db.session.get(Connection, conn.id).status == "EXPIRED"
    remaining = set(db.session.scalars(select(FreeeSyncJob.id)))
    assert remaining == {recent.id, failed.id}
    entries = {e.action: e.details for e in db.session.scalars(select(AuditEntry))}
    assert entries["maintenance.outbound_calls_pruned"]["deleted"] == 1
    assert entries["maintenance.connections_expired"]["expired"] == 1
    assert entries["maintenance.sync_jobs_pruned"]["deleted"]["freee_sync_jobs"] == 1


def test_demo_connects_both_sandboxes_and_syncs(ctx, live_server):
    from webapp.integrations.demo import connect_and_sync
    from webapp.integrations.models import DriveFile, DriveSyncLog, FreeePartner
    from webapp.orgs.demo import demo_org, staff_and_organizations

    staff_and_organizations()
    db.session.commit()
    connect_and_sync()
    connect_and_sync()  # idempotent
    db.session.commit()
    org = demo_org("kyoto-creators")
    connections = {
        c.provider: c for c in db.session.scalars(select(Connection).where(Connection.organization_id == org.id))
    }
    assert set(connections) == {"freee", "google_drive"}
    assert all(c.status == "CONNECTED" and c.sync_frequency == "daily" for c in connections.values())
    assert db.session.scalars(select(FreeeSyncJob)).one().status == "SUCCEEDED"
    assert db.session.scalars(select(DriveSyncLog)).one().status == "SUCCEEDED"
    assert db.session.scalar(select(func.count()).select_from(FreeePartner)) == 30
    # only the chosen "Design" folder is synced (not the 27 files of the whole Drive), with links and flags
    drive = connections["google_drive"]
    assert drive.details["root_folder_name"] == "Design"
    synced = db.session.scalars(select(DriveFile)).all()
    assert 0 < len(synced) < 27 and all(f.drive_parent_id == drive.details["root_folder_id"] for f in synced)
    assert all(f.web_view_link for f in synced) and any(f.is_public for f in synced)
    cached = [f for f in synced if f.cache_upload_id]
    assert len(cached) == 1 and cached[0].task_id is not None and cached[0].cache_expires_at is not None


def test_export_is_accepted_and_runs(client, ctx, run_jobs, live_server):
    _, org = owner_and_org(client)
    conn = connect(client, org, "freee")
    response = client.post(
        f"/o/{org.slug}/integrations/connections/{conn.id}/freee-sync",
        {"direction": "EXPORT", "entity_types": ["invoices"], "full_sync": "y"},
    )
    assert response.status_code == 303
    run_jobs()
    job = db.session.scalars(select(FreeeSyncJob)).one()
    db.session.refresh(job)
    # no finalized invoice yet: nothing to send, and no partner created for nothing
    assert job.direction == "EXPORT" and job.status == "SUCCEEDED"
    assert job.counts == {"invoices_exported": 0}
