"""In Chromium: drag a scheduled post to another day on the month calendar (studio.js + htmx)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.browser.conftest import browser, new_page  # noqa: F401  (the browser fixtures)
from tests.factories import PASSWORD
from tests.studio.conftest import post_form
from webapp.extensions import db
from webapp.studio.models import Post


@pytest.mark.browser
def test_drag_a_post_to_another_day(creator, new_page):  # noqa: F811
    data = post_form(creator, action="schedule", schedule_date="2031-03-12", schedule_time="18:15")
    assert creator.client.post(f"/o/{creator.slug}/studio/posts/new", data).status_code == 303
    page = new_page()
    page.goto("/auth/login")
    page.get_by_label("E-mail", exact=True).fill(creator.user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.wait_for_url("**/o/**")
    page.goto(f"/o/{creator.slug}/studio/calendar?view=month&start=2031-03-01")
    chip = page.locator('[data-day="2031-03-12"] .chip')
    assert "18:15" in chip.inner_text()
    chip.drag_to(page.locator('[data-day="2031-03-20"]'))
    page.locator('[data-day="2031-03-20"] .chip').wait_for()
    assert page.locator('[data-day="2031-03-12"] .chip').count() == 0
    post = db.session.scalar(select(Post).where(Post.organization_id == creator.org.id))
    db.session.refresh(post)
    assert post.scheduled_at == datetime(2031, 3, 20, 16, 15, tzinfo=UTC)  # 18:15 in Harare (UTC+2)
