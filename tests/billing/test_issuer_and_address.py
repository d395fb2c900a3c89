"""Who issues an invoice and whom it is billed to: the issuer's details from system settings and the
organization's address (edited by owners and admins) on the invoice page, the invoice PDF and the
credit-note PDF; both forms refuse bad input with a message and change nothing."""

from __future__ import annotations

import contextlib
import re
import zlib

import pytest

from tests.billing.helpers import make_invoice, org_with_owner, staff_user
from tests.factories import add_member, make_user
from webapp.billing import services as billing
from webapp.extensions import db
from webapp.settings import get

ADDRESS = {
    "address_line": "27 Nelson Mandela Avenue",
    "postal_code": "00263",
    "city": "Harare",
    "country": "ZW",
    "phone": "+263 242 700 100",
}


def pdf_text(data: bytes) -> str:
    """The text drawn in a PDF: every content stream inflated, the literal strings of its Tj operators."""
    assert data.startswith(b"%PDF")
    chunks = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        raw = match.group(1)
        with contextlib.suppress(zlib.error):  # a stream fpdf2 left uncompressed
            raw = zlib.decompress(raw)
        chunks.extend(re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", raw))
    return "\n".join(re.sub(rb"\\(.)", rb"\1", c).decode("latin-1") for c in chunks)


@pytest.fixture
def shop(ctx, client):
    org, owner = org_with_owner("owner@issuer.example")
    admin = add_member(org, make_user("admin@issuer.example"), "ADMIN").user
    db.session.commit()
    return org, owner, admin


def _issuer(client):
    staff_user("staff@issuer.example")
    db.session.commit()
    client.login("staff@issuer.example")
    for key, value in (
        ("billing.issuer_name", "Mosi Ledger (Pvt) Ltd"),
        ("billing.issuer_address", "3 Baines Avenue, Harare, Zimbabwe"),
        ("billing.issuer_tax_number", "BP 7788 1122"),
        ("billing.issuer_email", "invoices@mosi.example"),
    ):
        assert client.post(f"/admin/settings/{key}", {"value": value}).status_code == 303


def test_an_admin_sets_the_address_and_the_invoice_page_and_pdfs_print_it_with_the_issuer(shop, client, make_client):
    org, owner, _admin = shop
    _issuer(client)
    admin = make_client()
    admin.login("admin@issuer.example")
    assert admin.get(f"/o/{org.slug}/settings/address").status_code == 200
    saved = admin.post(f"/o/{org.slug}/settings/address", ADDRESS)
    assert saved.status_code == 303
    again = admin.post(f"/o/{org.slug}/settings/address", ADDRESS)  # a reload of the POST changes nothing
    assert again.status_code == 303
    invoice = make_invoice(org)
    billing.record_manual_payment(invoice, None, invoice.amount_due, "CASH", "R-1")
    note = billing.issue_credit_note(invoice, None, "Returned till")
    db.session.commit()

    customer = make_client()
    customer.login(owner.email)
    page = customer.get(f"/o/{org.slug}/billing/invoices/{invoice.id}").get_data(as_text=True)
    for text in ("Mosi Ledger (Pvt) Ltd", "3 Baines Avenue", "BP 7788 1122", "invoices@mosi.example"):
        assert text in page
    for text in ("27 Nelson Mandela Avenue", "00263 Harare", "Zimbabwe", "+263 242 700 100"):
        assert text in page

    for url in (
        f"/o/{org.slug}/billing/invoices/{invoice.id}.pdf",
        f"/o/{org.slug}/billing/credit-notes/{note.id}.pdf",
    ):
        response = customer.get(url)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        text = pdf_text(response.data)
        for expected in (
            "Mosi Ledger (Pvt) Ltd",
            "3 Baines Avenue",
            "Tax / reg. no. BP 7788 1122",
            "invoices@mosi.example",
            org.name,
            "27 Nelson Mandela Avenue",
            "00263 Harare",
            "Zimbabwe",
            "Phone +263 242 700 100",
        ):
            assert expected in text, (url, expected, text)


def test_a_pdf_carries_the_default_issuer_until_staff_change_it(shop, client):
    org, owner, _ = shop
    invoice = make_invoice(org)
    db.session.commit()
    client.login(owner.email)
    text = pdf_text(client.get(f"/o/{org.slug}/billing/invoices/{invoice.id}.pdf").data)
    assert get("billing.issuer_name") in text and get("billing.issuer_email") in text
    assert "27 Nelson Mandela" not in text  # no address yet: none printed


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "call me", "Write the phone number with digits"),
        ("phone", "+1 2", "Write the phone number with digits"),
        ("postal_code", "00<263>", "A postal code has letters, digits"),
        ("address_line", "x" * 201, "Field cannot be longer than 200 characters"),
        ("country", "XX", "Not a valid choice"),
    ],
)
def test_the_address_form_refuses_bad_input_and_keeps_what_was_saved(shop, client, field, value, message):
    org, owner, _ = shop
    client.login(owner.email)
    assert client.post(f"/o/{org.slug}/settings/address", ADDRESS).status_code == 303
    refused = client.post(f"/o/{org.slug}/settings/address", {**ADDRESS, field: value})
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    db.session.refresh(org)
    assert org.phone == ADDRESS["phone"] and org.postal_code == ADDRESS["postal_code"] and org.country == "ZW"


def test_a_city_without_a_street_is_refused(shop, client):
    org, owner, _ = shop
    client.login(owner.email)
    refused = client.post(f"/o/{org.slug}/settings/address", {**ADDRESS, "address_line": ""})
    assert refused.status_code == 422 and "Add the street address" in refused.get_data(as_text=True)
    db.session.refresh(org)
    assert org.city is None


def test_members_and_billing_cannot_change_the_address_and_another_org_is_404(shop, make_client):
    org, _owner, _ = shop
    for role in ("MEMBER", "BILLING"):
        add_member(org, make_user(f"{role.lower()}@issuer.example"), role)
    org_with_owner("owner2@issuer.example")
    db.session.commit()
    for email in ("member@issuer.example", "billing@issuer.example"):
        client = make_client()
        client.login(email)
        assert client.get(f"/o/{org.slug}/settings/address").status_code == 403
        assert client.post(f"/o/{org.slug}/settings/address", ADDRESS).status_code == 403
    stranger = make_client()
    stranger.login("owner2@issuer.example")
    assert stranger.post(f"/o/{org.slug}/settings/address", ADDRESS).status_code == 404
    db.session.refresh(org)
    assert org.address_line is None


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("billing.issuer_email", "not-an-address", "Issuer contact e-mail: enter an e-mail address"),
        ("billing.issuer_name", "   ", "Issuer company name: this is printed on every invoice"),
        ("billing.issuer_tax_number", "BP<script>", "Issuer tax / registration number: letters, digits"),
        ("billing.issuer_address", "x" * 301, "Issuer address: keep it under 300 characters"),
    ],
)
def test_issuer_settings_are_validated(ctx, client, key, value, message):
    staff_user("staff@issuer.example")
    db.session.commit()
    client.login("staff@issuer.example")
    before = get(key)
    refused = client.post(f"/admin/settings/{key}", {"value": value})
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    db.session.remove()
    assert get(key) == before


def test_the_settings_page_reads_as_words_with_the_key_kept_small(ctx, client):
    staff_user("staff@issuer.example")
    db.session.commit()
    client.login("staff@issuer.example")
    page = client.get("/admin/settings").get_data(as_text=True)
    assert "Billing · Net terms (days)" in page and "Days between issue and due date" in page
    assert '<small class="muted setting-key"><code>billing.net_terms_days</code></small>' in page
    assert "Billing · Issuer contact e-mail" in page
    edit = client.get("/admin/settings/billing.tax_rate_bps").get_data(as_text=True)
    assert "Billing · Tax rate (basis points)" in edit and "<code>billing.tax_rate_bps</code>" in edit
    refused = client.post("/admin/settings/billing.tax_rate_bps", {"value": "lots"})
    assert "Tax rate (basis points): enter a whole number" in refused.get_data(as_text=True)
