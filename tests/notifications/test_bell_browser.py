"""The bell in a real browser, on the web process of the README's run shape: the unread count changes
without a reload (htmx sse extension, same-origin EventSource), with no console error."""

from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, REDIS_UP
from tests.factories import PASSWORD, make_org, make_user
from webapp.extensions import db
from webapp.notifications import notify


@pytest.mark.browser
@pytest.mark.skipif(not REDIS_UP, reason="live delivery goes through Redis pub/sub")
def test_bell_updates_live_in_the_browser(app, web_server):
    live_server = web_server
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Chromium at {CHROMIUM}")
    from playwright.sync_api import expect, sync_playwright

    with app.app_context():
        user = make_user("bell@example.com")
        make_org(user, "Bell Co", "bell-co")
        user_id = user.id
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page()
        problems = []
        # The missing favicon is issue 21's (another change); anything else failing here is ours.
        page.on(
            "console",
            lambda m: (
                problems.append(f"{m.text} {m.location.get('url')}")
                if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{live_server}/auth/login")
        page.fill("input[name=email]", "bell@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.goto(f"{live_server}/o/bell-co/support/")
        badge = page.locator("#bell-count .bell-badge")
        expect(badge).to_have_attribute("data-unread", "0")
        page.wait_for_timeout(500)  # the event stream connects after htmx processes the page
        with app.app_context():
            notify(user_id, "general", "Ring ring", "")
            db.session.commit()
        expect(badge).to_have_attribute("data-unread", "1", timeout=10000)
        expect(badge).to_have_text("1")
        page.click("#bell-count")
        expect(page.locator(".notification.is-unread")).to_contain_text("Ring ring")
        browser.close()
    assert problems == []
