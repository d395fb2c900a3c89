from datetime import timedelta

from sqlalchemy import func, select

from tests.integrations.helpers import connect, fault, owner_and_org, sandbox
from webapp.audit.models import AuditEntry
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.models import (
    Connection,
    FreeeDeal,
    FreeeInvoice,
    FreeePartner,
    FreeeSyncJob,
    OutboundCall,
)
from webapp.integrations.sandboxes._state import SandboxFreeeRecord, SandboxFreeeToken
from webapp.secrets import decrypt_field


def _count(model, **where):
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.scalar(stmt)


def _sync(client, org, conn, run_jobs, **form):
    data = {"direction": "IMPORT", "entity_types": ["partners", "invoices", "deals"], "full_sync": "y", **form}
    response = client.post(f"/o/{org.slug}/integrations/connections/{conn.id}/freee-sync", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    run_jobs()
    db.session.expire_all()
    return db.session.scalars(select(FreeeSyncJob).order_by(FreeeSyncJob.id.desc())).first()


def test_connect_sync_disconnect_through_the_routes(client, ctx, run_jobs, live_server, sandbox_url, sandbox_db):
    owner, org = owner_and_org(client)
    conn = connect(client, org, "freee", choice="1001")
    assert conn.status == "CONNECTED" and conn.account_id == "1001" and conn.account_name == "Tessera Demo KK"
    assert conn.created_by_id == owner.id
    # 6-hour access token, 90-day refresh token, both from the token response
    assert timedelta(hours=5, minutes=59) < conn.token_expires_at - utcnow() <= timedelta(hours=6)
    assert timedelta(days=89) < conn.refresh_expires_at - utcnow() <= timedelta(days=90)
    page = client.get(f"/o/{org.slug}/integrations/").get_data(as_text=True)
    assert "Tessera Demo KK" in page and "Connected" in page and "oauth_connected" in page
    assert decrypt_field(conn, "access_token") not in page

    job = _sync(client, org, conn, run_jobs)
    assert job.status == "SUCCEEDED", (job.error_message, job.errors)
    assert job.progress == 100
    assert job.counts["partners"] == 30 and job.counts["deals"] == 40 and job.counts["invoices"] == 15
    assert _count(FreeePartner, connection_id=conn.id) == 30
    assert _count(FreeeDeal, connection_id=conn.id) == 40
    assert _count(FreeeInvoice, connection_id=conn.id) == 15
    # every call logged with freee's request id, never a token
    calls = list(db.session.scalars(select(OutboundCall).where(OutboundCall.action == "partners_listed")))
    assert calls and all(c.provider_request_id and c.organization_id == org.id for c in calls)

    # idempotent by freee id: a second run creates nothing new
    again = _sync(client, org, conn, run_jobs)
    assert again.status == "SUCCEEDED" and again.counts.get("partners_added", 0) == 0
    assert again.counts["partners_updated"] == 30
    assert _count(FreeePartner, connection_id=conn.id) == 30 and _count(FreeeDeal, connection_id=conn.id) == 40

    progress = client.get(f"/o/{org.slug}/integrations/freee-jobs/{job.id}/progress", htmx=True)
    assert progress.status_code == 200 and "Succeeded" in progress.get_data(as_text=True)
    assert "integrations:sync-finished" in progress.headers["HX-Trigger"]
    detail = client.get(f"/o/{org.slug}/integrations/connections/{conn.id}/").get_data(as_text=True)
    assert "30 partners" in detail and "40 deals" in detail

    refresh_token = decrypt_field(conn, "refresh_token")
    response = client.post(f"/o/{org.slug}/integrations/connections/{conn.id}/disconnect")
    assert response.status_code == 303
    db.session.expire_all()
    conn = db.session.get(Connection, conn.id)
    assert conn.status == "DISCONNECTED" and conn.access_token_ciphertext is None
    assert conn.refresh_token_ciphertext is None and conn.disconnected_at is not None
    # revoked at freee: the old refresh token no longer works there
    token_row = sandbox_db.scalar(
        select(SandboxFreeeToken).where(SandboxFreeeToken.kind == "refresh", SandboxFreeeToken.revoked_at.is_not(None))
    )
    assert token_row is not None
    assert db.session.scalar(select(OutboundCall).where(OutboundCall.action == "oauth_revoked")).success
    import httpx

    reuse = httpx.post(
        f"{sandbox_url}/sandbox/freee/public_api/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": "tessera-freee",
            "client_secret": "tessera-freee-sandbox-secret",
        },
    )
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    # history kept: the synced jobs and records are still there
    assert _count(FreeeSyncJob, connection_id=conn.id) == 2
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"connection.connected", "freee_sync.started", "connection.disconnected"} <= actions


def test_since_date_and_bad_input(client, ctx, run_jobs, sandbox_db):
    _, org = owner_and_org(client)
    conn = connect(client, org, "freee")
    url = f"/o/{org.slug}/integrations/connections/{conn.id}/freee-sync"
    missing = client.post(url, {"direction": "IMPORT", "entity_types": ["partners"]})
    assert missing.status_code == 422 and "date to sync from" in missing.get_data(as_text=True)
    none = client.post(url, {"direction": "IMPORT", "full_sync": "y"})
    assert none.status_code == 422 and "at least one" in none.get_data(as_text=True)
    future = client.post(url, {"direction": "IMPORT", "entity_types": ["deals"], "since_date": "2999-01-01"})
    assert future.status_code == 422 and "future" in future.get_data(as_text=True)
    assert _count(FreeeSyncJob) == 0

    since = (utcnow() - timedelta(days=120)).date()
    job = _sync(client, org, conn, run_jobs, full_sync="", since_date=since.isoformat(), entity_types=["deals"])
    assert job.status == "SUCCEEDED" and not job.full_sync
    expected = sandbox_db.scalar(
        select(func.count())
        .select_from(SandboxFreeeRecord)
        .where(
            SandboxFreeeRecord.kind == "deal",
            SandboxFreeeRecord.company_id == 1001,
            SandboxFreeeRecord.sort_date >= since.isoformat(),
        )
    )
    assert 0 < job.counts["deals"] == expected < 40
    assert _count(FreeePartner) == 0  # only deals were asked for
    page = client.get(f"/o/{org.slug}/integrations/connections/{conn.id}/")
    assert page.status_code == 200 and f"since {since.isoformat()}" in page.get_data(as_text=True)


def test_429_and_5xx_mid_sync(client, ctx, run_jobs, live_server, sandbox_url):
    _, org = owner_and_org(client)
    conn = connect(client, org, "freee")
    # deals answer 429 once (Retry-After: 1), invoices answer 503 every time
    fault(sandbox_url, "freee", "/api/1/deals", 429, times=1, retry_after=1)
    fault(sandbox_url, "freee", "/iv/invoices", 503, times=50)
    job = _sync(client, org, conn, run_jobs)
    assert job.status == "FAILED"
    assert "import invoices" in job.error_message
    assert job.counts["partners"] == 30 and job.counts["deals"] == 40  # the 429 was waited out
    assert any("import invoices" in e["message"] for e in job.errors)
    statuses = [
        c.status_code
        for c in db.session.scalars(
            select(OutboundCall).where(OutboundCall.action == "deals_listed").order_by(OutboundCall.id)
        )
    ]
    assert statuses[0] == 429 and statuses[1] == 200
    invoice_calls = list(db.session.scalars(select(OutboundCall).where(OutboundCall.action == "invoices_listed")))
    assert len(invoice_calls) == 4 and {c.status_code for c in invoice_calls} == {503}  # 1 try + 3 retries
    conn = db.session.get(Connection, conn.id)
    assert conn.status == "CONNECTED" and "import invoices" in conn.last_error

    # once freee recovers, a re-run finishes and duplicates nothing
    sandbox(sandbox_url, "freee", "/_control/faults", method="DELETE")
    rerun = _sync(client, org, conn, run_jobs)
    assert rerun.status == "SUCCEEDED" and _count(FreeeInvoice) == 15 and _count(FreeeDeal) == 40


def test_a_bad_record_is_reported_and_the_rest_continue(client, ctx, run_jobs, sandbox_db):
    _, org = owner_and_org(client)
    conn = connect(client, org, "freee", choice="1002")
    bad = sandbox_db.scalars(
        select(SandboxFreeeRecord).where(SandboxFreeeRecord.kind == "partner", SandboxFreeeRecord.company_id == 1002)
    ).first()
    bad.body = {**bad.body, "name": ""}
    sandbox_db.commit()
    job = _sync(client, org, conn, run_jobs, entity_types=["partners"])
    assert job.status == "SUCCEEDED"
    assert job.counts["partners"] == 11 and job.counts["partners_failed"] == 1
    assert job.errors[0]["freee_id"] == bad.id and "without a name" in job.errors[0]["message"]
    assert _count(FreeePartner, connection_id=conn.id) == 11


def test_freee_403_burst_is_reported_plainly(client, ctx, run_jobs, live_server, sandbox_url):
    _, org = owner_and_org(client)
    conn = connect(client, org, "freee")
    fault(sandbox_url, "freee", "/api/1/partners", 403, times=1)
    job = _sync(client, org, conn, run_jobs, entity_types=["partners"])
    assert job.status == "FAILED" and "10 minutes" in job.errors[0]["message"]


def test_scheduled_sync_dispatch(client, ctx, run_jobs):
    from webapp.integrations.jobs import dispatch_scheduled_syncs

    _, org = owner_and_org(client)
    conn = connect(client, org, "freee")
    bad = client.post(f"/o/{org.slug}/integrations/connections/{conn.id}/schedule", {"frequency": "weekly"})
    assert bad.status_code == 303
    assert db.session.get(Connection, conn.id).sync_frequency == "off"
    client.post(f"/o/{org.slug}/integrations/connections/{conn.id}/schedule", {"frequency": "hourly"})
    db.session.expire_all()
    assert db.session.get(Connection, conn.id).sync_frequency == "hourly"
    dispatch_scheduled_syncs()
    run_jobs()
    job = db.session.scalars(select(FreeeSyncJob)).one()
    assert job.trigger == "scheduled" and job.status == "SUCCEEDED" and job.full_sync
    # just synced: not due again within the hour
    dispatch_scheduled_syncs()
    assert _count(FreeeSyncJob) == 1
