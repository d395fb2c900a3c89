"""In Chromium: an admin opens a member's post that needs approval and approves it from the post page."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.browser.conftest import browser, new_page  # noqa: F401  (the browser fixtures)
from tests.factories import PASSWORD, add_member, make_user
from tests.studio.conftest import creator, fast, post_form, video_files  # noqa: F401  (the studio fixtures)
from webapp.extensions import db
from webapp.studio.models import Post, PublishJob


@pytest.mark.browser
def test_studio_admin_approves_a_members_post_from_the_post_page(creator, make_client, new_page):  # noqa: F811
    member, admin = make_user("member@example.com"), make_user("admin@example.com")
    add_member(creator.org, member, "MEMBER")
    add_member(creator.org, admin, "ADMIN")
    assert creator.client.post(f"/o/{creator.slug}/studio/settings", {"approval_required": "y"}).status_code == 303
    member_client = make_client()
    member_client.login(member.email)
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    data = post_form(creator, action="schedule", schedule_date=day, schedule_time="18:15")
    assert member_client.post(f"/o/{creator.slug}/studio/posts/new", data).status_code == 303
    post = db.session.scalar(select(Post).where(Post.organization_id == creator.org.id))
    assert post.status == Post.NEEDS_APPROVAL

    page = new_page()
    page.goto("/auth/login")
    page.get_by_label("E-mail", exact=True).fill(admin.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.wait_for_url("**/o/**")
    page.goto(f"/o/{creator.slug}/studio/posts/{post.id}")
    approval = page.locator("#approval")
    assert "Needs approval" in approval.inner_text()
    approval.get_by_role("button", name="Approve").click()
    page.locator("h2 .status-scheduled").wait_for()
    assert page.locator("#approval").count() == 0
    assert "Approved by" in page.locator("main").inner_text()
    db.session.expire_all()
    post = db.session.get(Post, post.id)
    assert post.status == Post.SCHEDULED and post.approval_by_id == admin.id
    assert {t.status for t in post.targets} == {PublishJob.PENDING}
    assert post.scheduled_at == datetime.fromisoformat(f"{day}T16:15").replace(tzinfo=UTC)  # 18:15 in Harare
