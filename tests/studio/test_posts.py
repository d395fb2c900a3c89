"""Composing posts: per-platform validation with inline errors, draft / schedule / cancel, calendar
views in the organization's zone, reschedule by drag across a DST change."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.studio.conftest import post_form
from webapp.extensions import db
from webapp.studio.models import Post, PublishJob


def _latest(org):
    post = db.session.scalar(select(Post).where(Post.organization_id == org.id).order_by(Post.id.desc()))
    if post is not None:
        db.session.refresh(post)
    return post


def test_tiktok_privacy_has_no_default_and_each_platform_is_validated(creator):
    page = creator.client.get(f"/o/{creator.slug}/studio/posts/new").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*id="tiktok_privacy".*?</select>', page, re.S).group(0)
    assert "PUBLIC_TO_EVERYONE" in select_html and "SELF_ONLY" in select_html
    chosen = re.findall(r"<option([^>]*)>", select_html)
    assert all("selected" not in attrs or 'value=""' in attrs for attrs in chosen)
    assert "Sandbox_Creator" in page  # creator_info/query shown while composing
    data = post_form(
        creator,
        tiktok_privacy="",
        youtube_title="",
        caption="x" * 2300,
        hashtags=" ".join(f"tag{i}" for i in range(31)),
    )
    response = creator.client.post(f"/o/{creator.slug}/studio/posts/new", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose who can see this TikTok video." in html
    assert "YouTube needs a title." in html
    assert "TikTok captions are at most 2,200 characters with the hashtags; this one has" in html
    assert "at most 30 hashtags" in html or "at most 15 hashtags" in html
    assert _latest(creator.org) is None  # nothing half-saved


def test_video_too_long_for_youtube_shorts_is_refused_per_platform(creator, run_jobs):
    from tests.studio.conftest import set_settings

    set_settings(youtube_max_seconds=3)
    response = creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator))
    assert response.status_code == 422
    assert "YouTube allows 3 s here" in response.get_data(as_text=True)
    ok = creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator, platforms=("tiktok",)))
    assert ok.status_code == 303


def test_schedule_in_the_past_and_no_target_are_refused(creator):
    past = post_form(creator, action="schedule", schedule_date="2020-01-01", schedule_time="10:00")
    response = creator.client.post(f"/o/{creator.slug}/studio/posts/new", past)
    assert response.status_code == 422 and "Pick a time in the future" in response.get_data(as_text=True)
    none = post_form(creator, platforms=(), action="draft")
    response = creator.client.post(f"/o/{creator.slug}/studio/posts/new", none)
    assert response.status_code == 422 and "at least one account" in response.get_data(as_text=True)


def test_draft_then_schedule_then_cancel(creator, run_jobs):
    response = creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator, action="draft"))
    assert response.status_code == 303
    post = _latest(creator.org)
    assert post.status == Post.DRAFT and {t.status for t in post.targets} == {PublishJob.DRAFT}
    edit = post_form(creator, action="schedule", schedule_date="2031-06-01", schedule_time="09:30")
    assert creator.client.post(f"/o/{creator.slug}/studio/posts/{post.id}/edit", edit).status_code == 303
    post = _latest(creator.org)
    assert post.status == Post.SCHEDULED
    # Africa/Harare is UTC+2 all year
    assert post.scheduled_at == datetime(2031, 6, 1, 7, 30, tzinfo=UTC)
    run_jobs()  # not due: nothing happens
    assert _latest(creator.org).status == Post.SCHEDULED
    assert creator.client.post(f"/o/{creator.slug}/studio/posts/{post.id}/cancel").status_code == 303
    post = _latest(creator.org)
    assert post.status == Post.CANCELLED and {t.status for t in post.targets} == {PublishJob.CANCELLED}


def test_calendar_month_week_and_list_across_a_dst_change(creator):
    creator.org.timezone = "Europe/Berlin"
    db.session.commit()
    # Berlin moves to summer time on Sunday 28 March 2027 (02:00 → 03:00).
    before = post_form(creator, action="schedule", schedule_date="2027-03-27", schedule_time="10:00")
    assert creator.client.post(f"/o/{creator.slug}/studio/posts/new", before).status_code == 303
    post = _latest(creator.org)
    assert post.scheduled_at == datetime(2027, 3, 27, 9, 0, tzinfo=UTC)  # UTC+1
    assert post.timezone == "Europe/Berlin"

    month = creator.client.get(f"/o/{creator.slug}/studio/calendar?view=month&start=2027-03-01").get_data(as_text=True)
    assert "March 2027" in month and "<time>10:00</time>" in month and "cal-scheduled" in month
    assert 'data-day="2027-03-27"' in month and "studio.js" in month

    # drag to the day after the change: still 10:00 on the wall clock, one hour earlier in UTC
    moved = creator.client.post(f"/o/{creator.slug}/studio/posts/{post.id}/move", {"day": "2027-03-29"}, htmx=True)
    assert moved.status_code == 200 and 'id="calendar"' in moved.get_data(as_text=True)
    post = _latest(creator.org)
    assert post.scheduled_at == datetime(2027, 3, 29, 8, 0, tzinfo=UTC)  # UTC+2
    assert all(t.due_at == post.scheduled_at for t in post.targets)
    week = creator.client.get(f"/o/{creator.slug}/studio/calendar?view=week&start=2027-03-29").get_data(as_text=True)
    assert "<time>10:00</time>" in week

    # edit by form: 10:30 on the 28th (after the jump)
    creator.client.post(
        f"/o/{creator.slug}/studio/posts/{post.id}/reschedule",
        {"schedule_date": "2027-03-28", "schedule_time": "10:30"},
    )
    assert _latest(creator.org).scheduled_at == datetime(2027, 3, 28, 8, 30, tzinfo=UTC)

    listing = creator.client.get(f"/o/{creator.slug}/studio/calendar?view=list&status=SCHEDULED&platform=TIKTOK")
    assert "2027-03-28 10:30" in listing.get_data(as_text=True)
    empty = creator.client.get(f"/o/{creator.slug}/studio/calendar?view=list&status=PUBLISHED").get_data(as_text=True)
    assert "No posts match." in empty


def test_published_posts_cannot_be_moved(creator, run_jobs):
    creator.client.post(f"/o/{creator.slug}/studio/posts/new", post_form(creator, platforms=("tiktok",)))
    run_jobs()
    post = _latest(creator.org)
    assert post.status == Post.PUBLISHED
    creator.client.post(
        f"/o/{creator.slug}/studio/posts/{post.id}/move",
        {"day": (datetime.now(UTC) + timedelta(days=3)).date().isoformat()},
    )
    assert _latest(creator.org).scheduled_at == post.scheduled_at


def test_composer_prefills_the_day_clicked_on_the_calendar(creator):
    page = creator.client.get(f"/o/{creator.slug}/studio/posts/new?date=2031-05-04&video_id={creator.video.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'value="2031-05-04"' in html
    assert creator.client.get(f"/o/{creator.slug}/studio/posts/new?date=nonsense").status_code == 200
