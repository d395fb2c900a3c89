"""Customer and staff pages through the routes: roles, tenancy, PDF, CSV, staff actions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.billing.helpers import mail_with, make_invoice, org_with_owner, staff_user
from tests.factories import add_member, make_user
from webapp.billing import services as billing
from webapp.billing.models import Credit, Invoice, Payment, Service
from webapp.extensions import db


@pytest.fixture
def shop(ctx):
    org, owner = org_with_owner("owner@shop.example")
    billing.create_service(
        org,
        None,
        type="POS_TERMINAL",
        name="Till 1",
        monthly_fee=2_500,
        hardware_serial="SN-77",
        activated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    paid = make_invoice(org, lines=((1, 10_000),))
    billing.record_manual_payment(paid, None, paid.amount_due, "BANK_TRANSFER", "FNB-1")
    open_ = make_invoice(org, lines=((2, 5_000),))
    draft = make_invoice(org, finalize=False)
    db.session.commit()
    return org, owner, paid, open_, draft


def test_owner_sees_overview_invoices_detail_payments_credits(shop, client):
    org, owner, paid, open_, draft = shop
    client.login(owner.email)
    page = client.get(f"/o/{org.slug}/billing/").get_data(as_text=True)
    assert "Open amount" in page and "115.00" in page and open_.number in page and "Pay now" in page
    page = client.get(f"/o/{org.slug}/billing/invoices").get_data(as_text=True)
    assert paid.number in page and open_.number in page and "Draft" not in page
    page = client.get(
        f"/o/{org.slug}/billing/invoices?status=PAID", htmx=True, headers={"HX-Target": "invoice_list"}
    ).get_data(as_text=True)
    assert paid.number in page and open_.number not in page and "<html" not in page
    page = client.get(f"/o/{org.slug}/billing/invoices/{open_.id}").get_data(as_text=True)
    assert "Tax (15%)" in page and f"/pay/{open_.payment_token}" in page
    assert client.get(f"/o/{org.slug}/billing/invoices/{draft.id}").status_code == 404
    page = client.get(f"/o/{org.slug}/billing/payments").get_data(as_text=True)
    assert "Bank Transfer" in page and "FNB-1" in page
    assert client.get(f"/o/{org.slug}/billing/credits").status_code == 200
    page = client.get(f"/o/{org.slug}/services").get_data(as_text=True)
    assert "Till 1" in page and "SN-77" in page
    dashboard = client.get(f"/o/{org.slug}/").get_data(as_text=True)
    assert "Billing" in dashboard and f"/o/{org.slug}/billing/" in dashboard


def test_pdf_and_csv(shop, client):
    org, owner, paid, open_, _ = shop
    client.login(owner.email)
    pdf = client.get(f"/o/{org.slug}/billing/invoices/{paid.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    csv = client.get(f"/o/{org.slug}/billing/invoices.csv?status=ISSUED").get_data(as_text=True)
    rows = csv.strip().splitlines()
    assert rows[0].startswith("number,organization,status") and len(rows) == 2
    assert rows[1].startswith(open_.number) and ",115.00," in rows[1]


def test_roles_and_tenancy(shop, make_client):
    org, _owner, paid, _open, _ = shop
    member = make_user("member@shop.example")
    add_member(org, member, "MEMBER")
    bookkeeper = make_user("books@shop.example")
    add_member(org, bookkeeper, "BILLING")
    outsider, _ = org_with_owner("other@else.example")
    client = make_client()
    client.login(member.email)
    assert client.get(f"/o/{org.slug}/billing/").status_code == 403
    assert client.get(f"/o/{org.slug}/services").status_code == 200
    client = make_client()
    client.login(bookkeeper.email)
    assert client.get(f"/o/{org.slug}/billing/invoices/{paid.id}.pdf").status_code == 200
    assert client.get(f"/o/{org.slug}/services").status_code == 403
    client = make_client()
    client.login("other@else.example")
    assert client.get(f"/o/{org.slug}/billing/invoices/{paid.id}").status_code == 404
    assert client.get(f"/o/{outsider.slug}/billing/invoices/{paid.id}").status_code == 404
    assert client.get(f"/o/{outsider.slug}/billing/invoices/{paid.id}.pdf").status_code == 404
    assert client.get("/admin/invoices").status_code == 404


def test_customer_pays_with_credit_balance(shop, client):
    org, owner, _, open_, _ = shop
    billing.issue_credit(billing.billing_account_for(org), None, 50_000, "Goodwill")
    db.session.commit()
    client.login(owner.email)
    assert client.post(f"/o/{org.slug}/billing/invoices/{open_.id}/pay-with-credit", csrf=False).status_code == 400
    response = client.post(f"/o/{org.slug}/billing/invoices/{open_.id}/pay-with-credit")
    assert response.status_code == 303
    db.session.commit()
    assert db.session.get(Invoice, open_.id).status == "PAID"


def test_staff_invoice_console(shop, client, run_jobs, mailbox):
    org, _owner, paid, open_, draft = shop
    staff = staff_user()
    client.login(staff.email)
    page = client.get("/admin/invoices").get_data(as_text=True)
    assert "Open receivables" in page and "115.00" in page and "Collected this month" in page
    page = client.get(f"/admin/invoices?org={org.id}&status=DRAFT").get_data(as_text=True)
    assert f"Draft #{draft.id}" in page and open_.number not in page
    assert client.get("/admin/invoices.csv?overdue=1").get_data(as_text=True).count("\n") == 1

    # draft: add a line (bad then good), finalize
    bad = client.post(f"/admin/invoices/{draft.id}/lines", {"description": "Setup", "quantity": 1, "unit_price": "x"})
    assert bad.status_code == 422 and "Enter an amount like" in bad.get_data(as_text=True)
    client.post(f"/admin/invoices/{draft.id}/lines", {"description": "Setup", "quantity": 1, "unit_price": "20"})
    assert client.post(f"/admin/invoices/{draft.id}/finalize").status_code == 303
    db.session.commit()
    assert db.session.get(Invoice, draft.id).status == "ISSUED"
    # a second finalize is refused with a message, not a 500
    assert client.post(f"/admin/invoices/{draft.id}/finalize").status_code == 303
    assert "Only a draft" in client.get(f"/admin/invoices/{draft.id}").get_data(as_text=True)

    # manual payment, partial
    bad = client.post(f"/admin/invoices/{open_.id}/payments", {"amount": "10", "method": "CASH", "reference": ""})
    assert bad.status_code == 422 and "reference" in bad.get_data(as_text=True)
    client.post(f"/admin/invoices/{open_.id}/payments", {"amount": "15.00", "method": "CASH", "reference": "RC-1"})
    db.session.commit()
    assert db.session.get(Invoice, open_.id).status == "PARTIAL"

    # credit needs a reason; records the issuer
    bad = client.post(f"/admin/invoices/{open_.id}/credit", {"amount": "5", "reason": ""})
    assert bad.status_code == 422
    client.post(f"/admin/invoices/{open_.id}/credit", {"amount": "5", "reason": "Late install"})
    db.session.commit()
    credit = db.session.scalar(select(Credit).where(Credit.kind == "GRANT"))
    assert credit.issued_by_id == staff.id and credit.invoice_id == open_.id

    # void refused when something is paid; resend e-mail
    client.post(f"/admin/invoices/{open_.id}/void", {"void-reason": "oops"})
    db.session.commit()
    assert db.session.get(Invoice, open_.id).status == "PARTIAL"
    client.post(f"/admin/invoices/{open_.id}/resend")
    run_jobs()
    mail_with(mailbox, "owner@shop.example", "INV-")

    # credit note on the paid invoice
    client.post(f"/admin/invoices/{paid.id}/credit-note", {"note-reason": "Returned"})
    db.session.commit()
    assert db.session.get(Invoice, paid.id).status == "REFUNDED"

    page = client.get("/admin/payments?method=CASH").get_data(as_text=True)
    assert "RC-1" in page and "FNB-1" not in page


def test_staff_services_and_grace(shop, client):
    org, *_ = shop
    client.login(staff_user().email)
    bad = client.post(
        "/admin/services", {"organization": "nope", "type": "POS_TERMINAL", "name": "T", "monthly_fee": "10"}
    )
    assert bad.status_code == 422 and "No organization" in bad.get_data(as_text=True)
    client.post(
        "/admin/services",
        {
            "organization": org.slug,
            "type": "POS_MAINTENANCE",
            "name": "Care plan",
            "hardware_serial": "",
            "monthly_fee": "12.50",
        },
    )
    db.session.commit()
    service = db.session.scalar(select(Service).where(Service.name == "Care plan"))
    assert service.monthly_fee == 1_250
    client.post(f"/admin/services/{service.id}/suspend")
    db.session.commit()
    assert db.session.get(Service, service.id).status == "SUSPENDED"
    page = client.get(f"/admin/billing/{org.id}").get_data(as_text=True)
    assert "Care plan" in page and "Grace period" in page
    client.post(f"/admin/billing/{org.id}", {"grace_period_days": 30})
    db.session.commit()
    assert billing.billing_account_for(org).grace_period_days == 30
    assert client.get("/admin/services?org=" + org.slug).status_code == 200


def test_missing_csrf_is_refused(shop, client):
    _org, *_, open_, _ = shop
    client.login(staff_user().email)
    response = client.post(
        f"/admin/invoices/{open_.id}/payments", {"amount": "1", "method": "CASH", "reference": "x"}, csrf=False
    )
    assert response.status_code == 400
    assert db.session.scalar(select(Payment).where(Payment.reference == "x")) is None


def test_staff_edit_a_service(shop, client):
    org, *_ = shop
    service = db.session.scalar(select(Service).where(Service.organization_id == org.id))
    client.login(staff_user().email)
    page = client.get(f"/admin/billing/{org.id}").get_data(as_text=True)
    assert f"/admin/services/{service.id}/edit" in page and 'value="25.00"' in page
    client.post(
        f"/admin/services/{service.id}/edit",
        {"type": service.type, "name": "Till One", "hardware_serial": "SN-78", "monthly_fee": "27.5"},
    )
    db.session.commit()
    service = db.session.get(Service, service.id)
    assert (service.name, service.hardware_serial, service.monthly_fee) == ("Till One", "SN-78", 2_750)
    client.post(f"/admin/services/{service.id}/edit", {"type": service.type, "name": "", "monthly_fee": "-1"})
    db.session.commit()
    assert db.session.get(Service, service.id).name == "Till One"
