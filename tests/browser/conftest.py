"""Playwright with Debian Chromium, headless; a screenshot of every open page when a test fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Debian Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(request, browser, live_server):
    """``new_page()`` opens a page in a fresh browser context (its own cookies: another person)."""
    pages = []

    def make():
        context = browser.new_context(base_url=live_server)
        context.set_default_timeout(15_000)
        page = context.new_page()
        pages.append(page)
        return page

    yield make
    failed = any(
        getattr(request.node, f"report_{when}", None) and getattr(request.node, f"report_{when}").failed
        for when in ("setup", "call")
    )
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        for n, page in enumerate(pages):
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}-{n}.png"), full_page=True)
            except Exception as error:  # a crashed page must not hide the test's own failure
                print(f"screenshot {n} failed: {error}")
    for page in pages:
        page.context.close()
