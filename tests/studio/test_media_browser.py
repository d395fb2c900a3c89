"""In Chromium: the heat map and "Use this time" on the queue page, and searching the video library
(htmx swaps the list), with no CSP violation on either page."""

import os

import pytest
from sqlalchemy import select

from tests.browser.conftest import browser, new_page  # noqa: F401  (the browser fixtures)
from tests.factories import PASSWORD
from tests.studio.test_best_times import _seed_tokyo_history, _tokyo
from webapp.extensions import db
from webapp.studio.models import QueueSlot


def _login(page, email):
    page.goto("/auth/login")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.wait_for_url("**/o/**")


@pytest.mark.browser
def test_heat_map_use_this_time_and_library_search(creator, new_page):  # noqa: F811
    conns = _tokyo(creator)
    _seed_tokyo_history(creator, conns["tiktok"])
    page = new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    _login(page, creator.user.email)
    page.goto(f"/o/{creator.slug}/studio/queue")
    heatmap = page.locator("#best-times-tiktok table.heatmap")
    assert heatmap.is_visible()
    best = heatmap.locator("td.heat-best").first
    assert best.locator("[aria-hidden=true]").inner_text() == "5.0k"
    assert best.locator(".visually-hidden").bounding_box()["width"] <= 1  # for screen readers only
    assert "Monday 07:00: 4 posts" in best.get_attribute("title")
    # The intensity classes are real colours (from the stylesheet, not inline).
    assert best.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(30, 58, 138)"
    if os.environ.get("STUDIO_SCREENSHOTS"):
        page.screenshot(path=os.environ["STUDIO_SCREENSHOTS"] + "/queue.png", full_page=True)
    page.locator("#best-times-tiktok").get_by_role("button", name="Use Monday 07:00 as a posting time").click()
    page.wait_for_url(f"**/o/{creator.slug}/studio/queue")
    assert "Already a posting time of the queue." in page.locator("#best-times-tiktok").inner_text()
    slot = db.session.scalar(select(QueueSlot).where(QueueSlot.organization_id == creator.org.id))
    assert (slot.weekday, slot.minute) == (0, 7 * 60)

    page.goto(f"/o/{creator.slug}/studio/videos")
    assert page.locator("table.library tbody tr").count() == 1
    page.get_by_label("Search by name").fill("no such video")
    page.get_by_role("button", name="Search").click()
    page.get_by_text("No videos match").wait_for()
    assert "q=no%20such%20video" in page.url  # the search is in the address (htmx pushes it)
    if os.environ.get("STUDIO_SCREENSHOTS"):
        page.screenshot(path=os.environ["STUDIO_SCREENSHOTS"] + "/library.png", full_page=True)
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
