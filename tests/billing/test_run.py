"""The billing run: lines per service with proration, sources from other domains, idempotency, CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from tests.billing.helpers import mail_with, org_with_owner
from webapp.billing import services as billing
from webapp.billing.models import BillingRun, Invoice, InvoiceLineItem
from webapp.core.errors import DomainError
from webapp.extensions import db


def _at(day):
    return datetime(2026, 11, day, tzinfo=UTC)


def test_run_bills_services_prorated_and_is_idempotent(ctx, run_jobs, mailbox):
    with time_machine.travel(datetime(2026, 12, 1, 2, 0, tzinfo=UTC), tick=False):
        org, _ = org_with_owner("runner@example.com")
        billing.create_service(org, None, type="POS_TERMINAL", name="Till 1", monthly_fee=3_000, activated_at=_at(1))
        late = billing.create_service(
            org, None, type="POS_TERMINAL", name="Till 2", monthly_fee=3_000, activated_at=_at(16)
        )
        gone = billing.create_service(
            org,
            None,
            type="POS_MAINTENANCE",
            name="Care",
            monthly_fee=1_500,
            activated_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        billing.cancel_service(gone, None)
        gone.cancelled_at = _at(11)
        billing.create_service(
            org,
            None,
            type="POS_TERMINAL",
            name="Next month",
            monthly_fee=9_999,
            activated_at=datetime(2026, 12, 5, tzinfo=UTC),
        )
        _other, _ = org_with_owner()  # nothing to bill
        db.session.commit()

        run = billing.run_billing("2026-11", commit=True)
        db.session.commit()
        assert run.status == "SUCCEEDED" and run.progress == 100
        assert run.counts["invoices"] == 1 and run.counts["nothing_to_bill"] >= 1  # personal orgs too
        invoice = db.session.scalar(select(Invoice).where(Invoice.organization_id == org.id))
        assert invoice.status == "ISSUED" and invoice.number == "INV-2026-000001"
        assert (invoice.period_start, invoice.period_end) == (date(2026, 11, 1), date(2026, 11, 30))
        lines = {line.service_id: line for line in invoice.lines}
        assert lines[late.id].total == 1_500  # 15 of 30 days
        assert lines[gone.id].total == 500  # 10 of 30 days
        assert "15 of 30 days" in lines[late.id].description
        assert invoice.subtotal == 3_000 + 1_500 + 500 and invoice.total == invoice.subtotal + invoice.tax
        run_jobs()
        mail_with(mailbox, "runner@example.com", "INV-2026-000001")

        again = billing.run_billing("2026-11", commit=True)
        assert again.counts["invoices"] == 0 and again.counts["already_billed"] == 1
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 1


def test_sources_from_other_domains_add_lines(ctx):
    def usage_source(account, start, end):
        return [billing.LineSpec("API calls over plan", 1200, 1, metric="api_calls")]

    billing.BILLING_RUN_SOURCES.append(usage_source)
    try:
        _org, _ = org_with_owner()
        db.session.commit()
        billing.run_billing("2026-10", commit=True)
    finally:
        billing.BILLING_RUN_SOURCES.remove(usage_source)
    line = db.session.scalar(select(InvoiceLineItem))
    assert line.metric == "api_calls" and line.total == 1_200


def test_run_skips_suspended_accounts_and_bad_periods(ctx):
    org, _ = org_with_owner()
    billing.create_service(
        org, None, type="POS_TERMINAL", name="T", monthly_fee=100, activated_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    billing.suspend_account(billing.billing_account_for(org))
    db.session.commit()
    run = billing.run_billing("2026-10")
    assert run.counts["invoices"] == 0  # only the owner's personal organization was looked at
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == 0
    for bad in ("2026-13", "26-10", "", "2026-1"):
        with pytest.raises(DomainError):
            billing.parse_period(bad)


def test_cli_runs_the_period(app, ctx):
    org, _ = org_with_owner()
    billing.create_service(
        org, None, type="POS_TERMINAL", name="T", monthly_fee=2_000, activated_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["billing", "run", "--period", "2026-09"])
    assert result.exit_code == 0, result.output
    assert "SUCCEEDED" in result.output and "'invoices': 1" in result.output
    result = runner.invoke(args=["billing", "run", "--period", "nope"])
    assert result.exit_code != 0 and "YYYY-MM" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(BillingRun)) == 1


def test_staff_start_a_run_and_watch_progress(ctx, client, run_jobs):
    from tests.billing.helpers import staff_user

    staff_user("ops@example.com")
    org, _ = org_with_owner()
    billing.create_service(
        org, None, type="POS_TERMINAL", name="T", monthly_fee=2_000, activated_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    db.session.commit()
    client.login("ops@example.com")
    assert client.post("/admin/invoices/runs", {"period": "2026-99"}).status_code == 422
    response = client.post("/admin/invoices/runs", {"period": "2026-08"})
    assert response.status_code == 303
    run = db.session.scalar(select(BillingRun))
    page = client.get(f"/admin/invoices/runs/{run.id}/progress", htmx=True).get_data(as_text=True)
    assert "<progress" in page
    if ctx.app.extensions["tessera.jobs_backend"] == "rq":  # in-process jobs have finished already
        assert 'hx-trigger="every 1s"' in page and "Queued" in page
    run_jobs()
    db.session.commit()  # the test's app context shares its session with the request
    page = client.get(f"/admin/invoices/runs/{run.id}/progress", htmx=True).get_data(as_text=True)
    assert "Succeeded" in page and "every 1s" not in page and "invoices: 1" in page
