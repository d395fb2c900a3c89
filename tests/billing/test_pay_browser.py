"""A customer pays an invoice by link in a real browser: our page, the Paynow sandbox checkout,
back to our status page (which learns the result from the callback / its polling)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.billing.helpers import make_invoice, org_with_owner
from tests.conftest import CHROMIUM


@pytest.mark.browser
def test_pay_by_link_with_card_checkout(ctx, live_server):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Debian Chromium at {CHROMIUM}")
    from playwright.sync_api import expect, sync_playwright

    org, _ = org_with_owner()
    invoice = make_invoice(org, lines=((1, 10_000),))
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            page = browser.new_page(base_url=live_server)
            page.set_default_timeout(15_000)
            page.goto(f"/pay/{invoice.payment_token}")
            expect(page.locator("#amount-due").first).to_contain_text("115.00")
            page.select_option("select[name=method] >> nth=1", "PAYNOW_MASTERCARD")
            page.get_by_role("button", name="Continue to Paynow").click()
            expect(page.get_by_text("sandbox")).to_be_visible()
            page.get_by_role("button", name="Pay 115.00").click()
            expect(page.get_by_text("Thank you")).to_be_visible()
            expect(page.get_by_text("Amount still due: USD 0.00")).to_be_visible()
            page.goto(f"/pay/{invoice.payment_token}")
            expect(page.get_by_text("already paid")).to_be_visible()
        finally:
            browser.close()
