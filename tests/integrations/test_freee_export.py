"""Export to freee through the routes: the organization becomes a freee partner once, its finalized
invoices become freee invoices (or income deals, as the connection is set), each only once; the
sandbox answers over real HTTP at the live server."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.billing.helpers import make_invoice
from tests.integrations.helpers import connect, fault, owner_and_org
from webapp.billing import services as billing
from webapp.extensions import db
from webapp.integrations.models import FreeeExport, FreeeInvoice, FreeeSyncJob, OutboundCall
from webapp.integrations.sandboxes._state import SandboxFreeeRecord


def _sync(client, org, conn, run_jobs, direction="EXPORT", entities=("partners", "invoices")):
    data = {"direction": direction, "entity_types": list(entities), "full_sync": "y"}
    response = client.post(f"/o/{org.slug}/integrations/connections/{conn.id}/freee-sync", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    run_jobs()
    db.session.expire_all()
    return db.session.scalars(select(FreeeSyncJob).order_by(FreeeSyncJob.id.desc())).first()


def _sandbox(sandbox_db, kind, company=1001, **body_match):
    """What the freee sandbox holds for ``company`` (read from the sandbox process's database)."""
    sandbox_db.expire_all()
    rows = sandbox_db.scalars(
        select(SandboxFreeeRecord)
        .where(SandboxFreeeRecord.kind == kind, SandboxFreeeRecord.company_id == company)
        .order_by(SandboxFreeeRecord.id)
    )
    return [r.body for r in rows if all(r.body.get(k) == v for k, v in body_match.items())]


def _invoices(org):
    """Two finalized invoices (15% tax by default), one draft, one voided."""
    first = make_invoice(org, lines=((1, 10_000),))
    second = make_invoice(org, lines=((2, 2_500), (1, 1_000)))
    draft = make_invoice(org, finalize=False)
    voided = make_invoice(org)
    billing.void_invoice(voided, None, "entered twice")
    db.session.commit()
    return first, second, draft, voided


def _calls(action):
    return db.session.scalars(select(OutboundCall).where(OutboundCall.action == action)).all()


def test_export_invoices_happy_path_and_rerun(client, ctx, run_jobs, live_server, sandbox_db):
    _, org = owner_and_org(client)
    first, second, draft, voided = _invoices(org)
    conn = connect(client, org, "freee", choice="1001")

    job = _sync(client, org, conn, run_jobs)
    assert job.status == "SUCCEEDED", (job.error_message, job.errors)
    assert job.progress == 100 and job.errors == []
    assert job.counts["partners_exported"] == 1 and job.counts["invoices_exported"] == 2
    assert job.counts.get("invoices_failed", 0) == 0

    # the organization as a partner, once, with its contact e-mail and country
    partners = _sandbox(sandbox_db, "partner", code=f"TESSERA-ORG-{org.id}")
    assert len(partners) == 1
    partner = partners[0]
    assert partner["name"] == org.name and partner["email"] == org.email
    assert partner["address_attributes"] == {"country_code": org.country}

    # finalized invoices only, with Tessera's numbers, dates and amounts (whole units, tax on top)
    exported = {
        b["invoice_number"]: b for b in _sandbox(sandbox_db, "invoice") if b["invoice_number"].startswith("INV-")
    }
    assert set(exported) == {first.number, second.number}
    assert draft.number is None and voided.number not in exported
    one = exported[first.number]
    assert one["partner_id"] == partner["id"]
    assert one["amount_excluding_tax"] == 100 and one["amount_tax"] == 15 and one["total_amount"] == 115
    assert one["billing_date"] == first.issued_at.date().isoformat()
    assert one["payment_date"] == first.due_at.date().isoformat()
    two = exported[second.number]
    assert two["amount_excluding_tax"] == 60 and two["total_amount"] == 69
    assert [(x["quantity"], x["unit_price"]) for x in two["lines"]] == [(2, 25), (1, 10)]

    # the mapping, and local copies the page counts
    mapped = {(m.entity_type, m.local_id): m.freee_id for m in db.session.scalars(select(FreeeExport))}
    assert mapped == {
        ("partner", org.id): partner["id"],
        ("invoice", first.id): one["id"],
        ("invoice", second.id): two["id"],
    }
    local = db.session.scalars(select(FreeeInvoice).where(FreeeInvoice.local_invoice_id.is_not(None))).all()
    assert {i.invoice_number for i in local} == {first.number, second.number}
    # every call in the log, under its action, with freee's request id
    assert len(_calls("partner_created")) == 1 and len(_calls("invoice_synced")) == 2
    assert all(c.provider_request_id and c.success for c in _calls("invoice_synced"))

    # re-running creates nothing new: both invoices and the partner are skipped
    before = sandbox_db.scalar(select(func.count()).select_from(SandboxFreeeRecord))
    again = _sync(client, org, conn, run_jobs)
    assert again.status == "SUCCEEDED", again.errors
    assert again.counts["invoices_skipped"] == 2 and again.counts["partners_skipped"] == 1
    assert again.counts["invoices_exported"] == 0 and "partners_exported" not in again.counts
    assert sandbox_db.scalar(select(func.count()).select_from(SandboxFreeeRecord)) == before
    assert len(_calls("invoice_synced")) == 2

    # a newly finalized invoice goes out on the next run, alone
    third = make_invoice(org, lines=((3, 1_000),))
    later = _sync(client, org, conn, run_jobs, entities=("invoices",))
    assert later.counts["invoices_exported"] == 1 and later.counts["invoices_skipped"] == 2
    assert [b["total_amount"] for b in _sandbox(sandbox_db, "invoice", invoice_number=third.number)] == [35]

    detail = client.get(f"/o/{org.slug}/integrations/connections/{conn.id}/").get_data(as_text=True)
    assert "Export" in detail and "freee invoices" in detail


def test_export_as_deals_when_configured(client, ctx, run_jobs, live_server, sandbox_db):
    _, org = owner_and_org(client)
    first, second, _, _ = _invoices(org)
    conn = connect(client, org, "freee", choice="1001")
    response = client.post(
        f"/o/{org.slug}/integrations/connections/{conn.id}/schedule", {"frequency": "off", "export_as": "deals"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert conn.details["export_as"] == "deals"
    assert 'selected value="deals"' in client.get(f"/o/{org.slug}/integrations/connections/{conn.id}/").get_data(
        as_text=True
    )

    job = _sync(client, org, conn, run_jobs)
    assert job.status == "SUCCEEDED", job.errors
    assert job.counts["invoices_exported"] == 2
    deals = {d["ref_number"]: d for d in _sandbox(sandbox_db, "deal") if (d.get("ref_number") or "").startswith("INV-")}
    assert set(deals) == {first.number, second.number}
    deal = deals[first.number]
    assert (
        deal["type"] == "income" and deal["amount"] == 115 and deal["issue_date"] == first.issued_at.date().isoformat()
    )
    assert deal["partner_id"] == _sandbox(sandbox_db, "partner", code=f"TESSERA-ORG-{org.id}")[0]["id"]
    assert deal["details"][0]["account_item_id"] and deal["details"][0]["tax_code"]
    assert not [b for b in _sandbox(sandbox_db, "invoice") if (b.get("invoice_number") or "").startswith("INV-")]
    assert len(_calls("deal_created")) == 2

    # switching back to invoices never books an invoice a second time
    client.post(
        f"/o/{org.slug}/integrations/connections/{conn.id}/schedule", {"frequency": "off", "export_as": "invoices"}
    )
    again = _sync(client, org, conn, run_jobs)
    assert again.counts["invoices_skipped"] == 2 and again.counts["invoices_exported"] == 0
    assert not _calls("invoice_synced")

    bad = client.post(
        f"/o/{org.slug}/integrations/connections/{conn.id}/schedule", {"frequency": "off", "export_as": "journals"}
    )
    assert bad.status_code == 303
    db.session.expire_all()
    assert conn.details["export_as"] == "invoices"


def test_a_5xx_fails_one_invoice_the_rest_continue_and_a_rerun_finishes(
    client, ctx, run_jobs, live_server, sandbox_url, sandbox_db
):
    _, org = owner_and_org(client)
    first, second, _, _ = _invoices(org)
    conn = connect(client, org, "freee", choice="1001")
    fault(sandbox_url, "freee", "/iv/invoices", 503, times=1)  # a POST is not repeated blindly

    job = _sync(client, org, conn, run_jobs)
    assert job.status == "SUCCEEDED" and job.progress == 100
    assert job.counts["invoices_failed"] == 1 and job.counts["invoices_exported"] == 1
    assert len(job.errors) == 1 and first.number in job.errors[0]["message"] and "503" in job.errors[0]["message"]
    failed = [c for c in _calls("invoice_synced") if not c.success]
    assert len(failed) == 1 and failed[0].status_code == 503
    assert [b["invoice_number"] for b in _sandbox(sandbox_db, "invoice") if b["invoice_number"].startswith("INV-")] == [
        second.number
    ]
    page = client.get(f"/o/{org.slug}/integrations/connections/{conn.id}/").get_data(as_text=True)
    assert first.number in page

    rerun = _sync(client, org, conn, run_jobs)
    assert rerun.counts["invoices_exported"] == 1 and rerun.counts["invoices_skipped"] == 1
    numbers = sorted(
        b["invoice_number"] for b in _sandbox(sandbox_db, "invoice") if b["invoice_number"].startswith("INV-")
    )
    assert numbers == sorted([first.number, second.number])


def test_a_429_on_create_waits_and_retries(client, ctx, run_jobs, live_server, sandbox_url, sandbox_db):
    _, org = owner_and_org(client)
    first = make_invoice(org)
    conn = connect(client, org, "freee", choice="1001")
    fault(sandbox_url, "freee", "/api/1/partners", 429, times=1, retry_after=1)

    job = _sync(client, org, conn, run_jobs)
    assert job.status == "SUCCEEDED" and job.errors == []
    assert job.counts["partners_exported"] == 1 and job.counts["invoices_exported"] == 1
    statuses = [c.status_code for c in _calls("partner_created")]
    assert statuses == [429, 201]
    assert len(_sandbox(sandbox_db, "partner", code=f"TESSERA-ORG-{org.id}")) == 1
    assert _sandbox(sandbox_db, "invoice", invoice_number=first.number)


def test_bidirectional_imports_then_exports(client, ctx, run_jobs, live_server, sandbox_db):
    _, org = owner_and_org(client)
    first, second, _, _ = _invoices(org)
    conn = connect(client, org, "freee", choice="1002")  # Kyoto Trading GK: 12 partners, 5 invoices

    job = _sync(client, org, conn, run_jobs, direction="BIDIRECTIONAL")
    assert job.status == "SUCCEEDED", job.errors
    assert job.counts["partners"] == 12 and job.counts["invoices"] == 5  # imported first
    assert job.counts["partners_exported"] == 1 and job.counts["invoices_exported"] == 2
    listed = [c.id for c in _calls("invoices_listed")]
    created = [c.id for c in _calls("invoice_synced")]
    assert max(listed) < min(created)  # import, then export
    assert {b["invoice_number"] for b in _sandbox(sandbox_db, "invoice", company=1002)} >= {first.number, second.number}

    # both ways again: the exported records come back in the import (matched, not duplicated), none re-sent
    again = _sync(client, org, conn, run_jobs, direction="BIDIRECTIONAL")
    assert again.status == "SUCCEEDED", again.errors
    assert again.counts["invoices_skipped"] == 2 and again.counts["invoices"] == 7
    assert again.counts.get("invoices_added", 0) == 0
    assert db.session.scalar(select(func.count()).select_from(FreeeInvoice)) == 7


def test_export_needs_partners_or_invoices_and_other_orgs_stay_out(client, ctx, run_jobs, live_server, sandbox_db):
    _, org = owner_and_org(client)
    conn = connect(client, org, "freee", choice="1001")
    response = client.post(
        f"/o/{org.slug}/integrations/connections/{conn.id}/freee-sync",
        {"direction": "EXPORT", "entity_types": ["deals"], "full_sync": "y"},
    )
    assert response.status_code == 422 and "tick at least one" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(FreeeSyncJob)) == 0

    # another organization's invoices are never exported with this one
    from tests.factories import make_org, make_user

    other = make_org(make_user("other@example.com"))
    make_invoice(other)
    mine = make_invoice(org)
    job = _sync(client, org, conn, run_jobs, entities=("invoices",))
    assert job.counts["invoices_exported"] == 1
    assert [b["invoice_number"] for b in _sandbox(sandbox_db, "invoice") if b["invoice_number"].startswith("INV-")] == [
        mine.number
    ]


def test_a_403_burst_stops_the_invoice_export_and_a_rerun_finishes(
    client, ctx, run_jobs, live_server, sandbox_url, sandbox_db
):
    _, org = owner_and_org(client)
    _invoices(org)
    conn = connect(client, org, "freee", choice="1001")
    fault(sandbox_url, "freee", "/iv/invoices", 403, times=1)

    job = _sync(client, org, conn, run_jobs)
    assert job.status == "FAILED" and "export invoices" in job.error_message
    assert job.counts["partners_exported"] == 1 and job.counts.get("invoices_exported", 0) == 0
    assert "10 minutes" in job.errors[-1]["message"]
    assert len(_calls("invoice_synced")) == 1  # stopped at once, not hammering freee
    db.session.expire_all()
    assert conn.status == "CONNECTED" and "export invoices" in conn.last_error

    rerun = _sync(client, org, conn, run_jobs)
    assert rerun.status == "SUCCEEDED" and rerun.counts["invoices_exported"] == 2
    assert len([b for b in _sandbox(sandbox_db, "invoice") if b["invoice_number"].startswith("INV-")]) == 2
