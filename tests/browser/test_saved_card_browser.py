"""A customer saves a card on Stripe's hosted page (the sandbox) and pays an invoice with it, in Chromium."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.billing.helpers import make_invoice, org_with_owner
from tests.factories import PASSWORD
from webapp.billing.payment_models import PaymentMethod
from webapp.extensions import db


def test_add_a_card_and_pay_an_invoice_with_it(ctx, new_page):
    org, owner = org_with_owner("cardholder@example.com")
    page = new_page()
    page.goto("/auth/login")
    page.get_by_label("E-mail", exact=True).fill(owner.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/o/{org.slug}/billing/payment-methods")
    expect(page.get_by_text("No saved card yet.")).to_be_visible()
    page.get_by_role("button", name="Add a card").click()
    expect(page.get_by_role("heading", name="Save a card")).to_be_visible()  # Stripe's hosted page
    page.get_by_label("Card number").fill("4000 0025 0000 3155")  # this card asks to authenticate
    page.get_by_label("Expiry (MM/YY)").fill("11/39")
    page.get_by_label("CVC").fill("314")
    page.get_by_role("button", name="Save card").click()
    page.get_by_role("button", name="Complete authentication").click()
    expect(page.get_by_text("Visa •••• 3155 is saved.")).to_be_visible()  # back with us, htmx confirmed it
    expect(page.locator("#payment_method_list")).to_contain_text("11/2039")
    expect(page.locator("#payment_method_list")).to_contain_text("Default")
    method = db.session.query(PaymentMethod).one()
    method.is_default = False  # so the collection job leaves the invoice for the customer to pay
    db.session.commit()

    invoice = make_invoice(org, lines=((1, 4_000),))
    page.goto(f"/o/{org.slug}/billing/invoices/{invoice.id}")
    page.get_by_role("button", name="Pay with Visa •••• 3155").click()
    expect(page.get_by_text("Visa •••• 3155 was charged 46.00 USD.")).to_be_visible()
    db.session.expire_all()
    assert invoice.status == "PAID"
    page.goto(f"/o/{org.slug}/billing/invoices/{invoice.id}")
    expect(page.locator("body")).to_contain_text("Card (Stripe)")
