"""In Chromium: drag a queued post to the top of the queue (queue.js, HTML5 drag and drop + htmx),
then reload and see the new order, kept by the server with the queue's times unchanged."""

import pytest
from sqlalchemy import select

from tests.browser.conftest import browser, new_page  # noqa: F401  (the browser fixtures)
from tests.factories import PASSWORD
from tests.studio.conftest import creator, fast, post_form, video_files  # noqa: F401  (the studio fixtures)
from webapp.extensions import db
from webapp.studio.models import Post


@pytest.mark.browser
def test_drag_a_queued_post_to_the_top_and_reload(creator, new_page):  # noqa: F811
    slug = creator.slug
    for weekday in (1, 3, 5):
        assert (
            creator.client.post(f"/o/{slug}/studio/queue/times", {"weekday": weekday, "at": "10:30"}).status_code == 303
        )
    for name in ("Alpha", "Bravo", "Charlie"):
        data = post_form(creator, action="draft", caption=name)
        assert creator.client.post(f"/o/{slug}/studio/posts/new", data).status_code == 303
        post = db.session.scalar(select(Post).order_by(Post.id.desc()))
        assert creator.client.post(f"/o/{slug}/studio/posts/{post.id}/queue").status_code == 303
    rows = db.session.scalars(select(Post).where(Post.organization_id == creator.org.id).order_by(Post.id)).all()
    times = sorted(p.scheduled_at for p in rows)

    page = new_page()
    page.goto("/auth/login")
    page.get_by_label("E-mail", exact=True).fill(creator.user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.wait_for_url("**/o/**")
    page.goto(f"/o/{slug}/studio/queue")
    assert "Alpha" in page.locator("ol.queue > li").nth(0).inner_text()
    charlie = page.locator(f"#queued-{rows[2].id}")
    charlie.drag_to(page.locator(f"#queued-{rows[0].id}"))
    page.locator(".flash", has_text="Moved to place 1.").wait_for()  # the page the drop led to
    page.reload()
    texts = page.locator("ol.queue > li").all_inner_texts()
    assert ["Charlie" in texts[0], "Alpha" in texts[1], "Bravo" in texts[2]] == [True, True, True], texts
    db.session.expire_all()
    got = {p.caption: p.scheduled_at for p in db.session.scalars(select(Post)).all()}
    assert [got["Charlie"], got["Alpha"], got["Bravo"]] == times
