"""The posting queue through the routes: weekly times in the organization's zone, Add to queue at the
next free time, move up / down, pause and resume, re-slotting when times change; DST with zoneinfo."""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, update

from tests.factories import add_member, make_org, make_user
from tests.studio.conftest import post_form
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.studio.models import Post, PublishJob, QueueSlot


def _draft(creator, caption):
    data = post_form(creator, action="draft", caption=caption)
    assert creator.client.post(f"/o/{creator.slug}/studio/posts/new", data).status_code == 303
    return db.session.scalar(select(Post).where(Post.organization_id == creator.org.id).order_by(Post.id.desc()))


def _reload(post):
    db.session.expire_all()
    return db.session.get(Post, post.id)


def _add_time(client, slug, weekday, at, **extra):
    return client.post(f"/o/{slug}/studio/queue/times", {"weekday": weekday, "at": at, **extra})


def _next(weekday: int, hh: int, mm: int, zone="Africa/Harare") -> datetime:
    """The next ``weekday`` at hh:mm in Harare (UTC+2, no DST), as UTC."""
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo(zone))
    day = now.date() + timedelta(days=(weekday - now.weekday()) % 7)
    local = datetime.combine(day, time(hh, mm), tzinfo=ZoneInfo(zone))
    if local <= now:
        local += timedelta(days=7)
    return local.astimezone(UTC)


def test_add_to_queue_takes_the_next_free_times_and_moves_reorder(creator):
    slug = creator.slug
    assert _add_time(creator.client, slug, 0, "09:00").status_code == 303  # Monday
    assert _add_time(creator.client, slug, 2, "18:30").status_code == 303  # Wednesday
    dup = _add_time(creator.client, slug, 0, "09:00")
    assert dup.status_code == 422 and "already there" in dup.get_data(as_text=True)
    first, second, third = _draft(creator, "First"), _draft(creator, "Second"), _draft(creator, "Third")
    for post in (first, second, third):
        assert creator.client.post(f"/o/{slug}/studio/posts/{post.id}/queue").status_code == 303
    times = sorted([_next(0, 9, 0), _next(2, 18, 30)])
    times.append(times[0] + timedelta(days=7))
    first, second, third = _reload(first), _reload(second), _reload(third)
    assert [first.scheduled_at, second.scheduled_at, third.scheduled_at] == times
    assert first.status == Post.SCHEDULED and {t.status for t in first.targets} == {PublishJob.PENDING}
    assert {t.due_at for t in third.targets} == {times[2]}
    again = creator.client.post(f"/o/{slug}/studio/posts/{first.id}/queue")
    assert again.status_code == 303 and _reload(first).scheduled_at == times[0]  # already queued: refused

    page = creator.client.get(f"/o/{slug}/studio/queue").get_data(as_text=True)
    assert page.index("First") < page.index("Second") < page.index("Third")
    assert "Move up" in page and "Move down" in page  # buttons: keyboard-accessible reordering
    assert creator.client.post(f"/o/{slug}/studio/posts/{first.id}/queue/down").status_code == 303
    assert [_reload(p).scheduled_at for p in (second, first, third)] == times
    assert {t.due_at for t in _reload(first).targets} == {times[1]}
    edge = creator.client.post(f"/o/{slug}/studio/posts/{third.id}/queue/down")
    assert edge.status_code == 303 and _reload(third).scheduled_at == times[2]


def test_changing_the_times_reslots_queued_posts_in_order(creator):
    slug = creator.slug
    assert _add_time(creator.client, slug, 4, "12:00").status_code == 303  # Friday
    a, b = _draft(creator, "Alpha"), _draft(creator, "Beta")
    for post in (a, b):
        assert creator.client.post(f"/o/{slug}/studio/posts/{post.id}/queue").status_code == 303
    friday = _next(4, 12, 0)
    assert [_reload(a).scheduled_at, _reload(b).scheduled_at] == [friday, friday + timedelta(days=7)]
    # A time for every day at 07:00: both move to the next two free times, Alpha first.
    for weekday in range(7):
        assert _add_time(creator.client, slug, weekday, "07:00").status_code == 303
    upcoming = sorted({_next(d, 7, 0) for d in range(7)} | {friday})
    assert [_reload(a).scheduled_at, _reload(b).scheduled_at] == upcoming[:2]
    # Removing the times moves them back to Fridays.
    for slot in db.session.scalars(select(QueueSlot).where(QueueSlot.minute == 7 * 60)).all():
        assert creator.client.post(f"/o/{slug}/studio/queue/times/{slot.id}/delete").status_code == 303
    assert [_reload(a).scheduled_at, _reload(b).scheduled_at] == [friday, friday + timedelta(days=7)]
    # The last time cannot go while posts need it.
    last = db.session.scalar(select(QueueSlot).where(QueueSlot.organization_id == creator.org.id))
    assert creator.client.post(f"/o/{slug}/studio/queue/times/{last.id}/delete").status_code == 303
    assert db.session.get(QueueSlot, last.id) is not None


def test_pause_holds_the_queue_and_resume_reslots_from_now(creator):
    from webapp.studio.services import publishing

    slug = creator.slug
    assert _add_time(creator.client, slug, 1, "10:00").status_code == 303
    post = _draft(creator, "Paused one")
    assert creator.client.post(f"/o/{slug}/studio/posts/{post.id}/queue").status_code == 303
    assert creator.client.post(f"/o/{slug}/studio/queue/pause").status_code == 303
    assert "Paused" in creator.client.get(f"/o/{slug}/studio/queue").get_data(as_text=True)
    past = utcnow() - timedelta(minutes=90)  # due, and even past the missed window
    db.session.execute(update(Post).where(Post.id == post.id).values(scheduled_at=past))
    db.session.execute(update(PublishJob).where(PublishJob.post_id == post.id).values(due_at=past))
    db.session.commit()
    ids = {t.id for t in _reload(post).targets}
    assert publishing.mark_missed() == 0
    assert not ids & {job_id for job_id, _ in publishing.claim_due()}
    assert all(publishing.claim_one(i) is None for i in ids)
    assert creator.client.post(f"/o/{slug}/studio/queue/resume").status_code == 303
    post = _reload(post)
    assert post.scheduled_at == _next(1, 10, 0) and {t.status for t in post.targets} == {PublishJob.PENDING}


def test_members_queue_posts_but_only_owners_and_admins_manage_the_queue(creator, make_client):
    slug = creator.slug
    assert _add_time(creator.client, slug, 3, "08:00").status_code == 303
    member = make_user("queue-member@example.com")
    add_member(creator.org, member, "MEMBER")
    mc = make_client()
    mc.login(member.email)
    assert creator.client.post(f"/o/{slug}/studio/settings", {"approval_required": "y"}).status_code == 303
    data = post_form(creator, action="draft", caption="Member's")
    assert mc.post(f"/o/{slug}/studio/posts/new", data).status_code == 303
    post = db.session.scalar(select(Post).where(Post.organization_id == creator.org.id))
    assert mc.post(f"/o/{slug}/studio/posts/{post.id}/queue").status_code == 303
    post = _reload(post)
    assert post.queued and post.status == Post.NEEDS_APPROVAL and post.scheduled_at == _next(3, 8, 0)
    slot = db.session.scalar(select(QueueSlot).where(QueueSlot.organization_id == creator.org.id))
    assert _add_time(mc, slug, 0, "09:00").status_code == 403
    assert mc.post(f"/o/{slug}/studio/queue/times/{slot.id}/delete").status_code == 403
    assert mc.post(f"/o/{slug}/studio/queue/pause").status_code == 403
    assert mc.post(f"/o/{slug}/studio/posts/{post.id}/queue/up").status_code == 403
    assert mc.get(f"/o/{slug}/studio/queue").status_code == 200
    stranger = make_user("queue-stranger@example.com")
    other = make_org(stranger, "Elsewhere", "elsewhere")
    sc = make_client()
    sc.login(stranger.email)
    assert sc.post(f"/o/{other.slug}/studio/queue/times/{slot.id}/delete").status_code == 404
    assert sc.post(f"/o/{other.slug}/studio/posts/{post.id}/queue").status_code == 404
    foreign = _add_time(creator.client, slug, 0, "09:00", connection_id="999999")
    assert foreign.status_code == 422


def test_queue_times_are_wall_clock_across_the_london_dst_change(ctx):
    """Europe/London springs forward on Sunday 28 March 2027: Monday 09:00 is 09:00 UTC before it
    and 08:00 UTC after; 01:30 that Sunday does not exist and moves to 02:30 BST (01:30 UTC)."""
    from webapp.studio.services import queue

    owner = make_user("london@example.com")
    org = make_org(owner, "London Co", "london-co")
    org.timezone = "Europe/London"
    db.session.add_all(
        [
            QueueSlot(organization_id=org.id, weekday=0, minute=9 * 60),
            QueueSlot(organization_id=org.id, weekday=6, minute=90),
        ]
    )
    db.session.commit()
    times = queue.upcoming(org, datetime(2027, 3, 20, 12, tzinfo=UTC))
    got = [next(times) for _ in range(5)]
    assert got == [
        datetime(2027, 3, 21, 1, 30, tzinfo=UTC),  # Sun 01:30 GMT
        datetime(2027, 3, 22, 9, 0, tzinfo=UTC),  # Mon 09:00 GMT
        datetime(2027, 3, 28, 1, 30, tzinfo=UTC),  # Sun 01:30 does not exist → 02:30 BST
        datetime(2027, 3, 29, 8, 0, tzinfo=UTC),  # Mon 09:00 BST
        datetime(2027, 4, 4, 0, 30, tzinfo=UTC),  # Sun 01:30 BST
    ]
    autumn = queue.upcoming(org, datetime(2027, 10, 30, 12, tzinfo=UTC))
    assert [next(autumn) for _ in range(2)] == [
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),  # 01:30 happens twice that night: the first (BST) one
        datetime(2027, 11, 1, 9, 0, tzinfo=UTC),  # Mon 09:00 GMT again
    ]


def test_move_to_a_place_reorders_the_queue_and_keeps_its_times(creator, make_client):
    """What a drag and drop on the queue page posts: the post takes that place, the others shift,
    the times stay where they were."""
    slug = creator.slug
    for weekday in (0, 2, 4):
        assert _add_time(creator.client, slug, weekday, "09:00").status_code == 303
    posts = [_draft(creator, name) for name in ("One", "Two", "Three", "Four")]
    for post in posts:
        assert creator.client.post(f"/o/{slug}/studio/posts/{post.id}/queue").status_code == 303
    times = [_reload(p).scheduled_at for p in posts]
    assert times == sorted(times)
    page = creator.client.get(f"/o/{slug}/studio/queue").get_data(as_text=True)
    assert "data-reorder" in page and 'draggable="true"' in page and "/static/js/queue.js" in page
    assert f'data-position-url="/o/{slug}/studio/posts/{posts[3].id}/queue/position"' in page
    moved = creator.client.post(f"/o/{slug}/studio/posts/{posts[3].id}/queue/position", {"position": "1"})
    assert moved.status_code == 303
    order = [posts[3], posts[0], posts[1], posts[2]]
    assert [_reload(p).scheduled_at for p in order] == times
    assert {t.due_at for t in _reload(posts[3]).targets} == {times[0]}
    page = creator.client.get(f"/o/{slug}/studio/queue").get_data(as_text=True)
    assert page.index("Four") < page.index("One") < page.index("Two") < page.index("Three")

    for hostile in ("0", "5", "-1", "abc", "1e9", "", "9" * 40, "²", " 1"):
        answer = creator.client.post(f"/o/{slug}/studio/posts/{posts[0].id}/queue/position", {"position": hostile})
        assert answer.status_code == 303, hostile  # back to the queue with a message, nothing moved
    assert [_reload(p).scheduled_at for p in order] == times
    same = creator.client.post(f"/o/{slug}/studio/posts/{posts[3].id}/queue/position", {"position": "1"})
    assert same.status_code == 303 and _reload(posts[3]).scheduled_at == times[0]

    member = make_user("dnd-member@example.com")
    add_member(creator.org, member, "MEMBER")
    mc = make_client()
    mc.login(member.email)
    assert mc.post(f"/o/{slug}/studio/posts/{posts[0].id}/queue/position", {"position": "1"}).status_code == 403
    stranger = make_user("dnd-stranger@example.com")
    other = make_org(stranger, "Elsewhere DnD", "elsewhere-dnd")
    sc = make_client()
    sc.login(stranger.email)
    foreign = sc.post(f"/o/{other.slug}/studio/posts/{posts[0].id}/queue/position", {"position": "1"})
    assert foreign.status_code == 404
    assert [_reload(p).scheduled_at for p in order] == times


def test_a_post_for_one_account_takes_that_accounts_own_times(creator):
    """Per-account posting times: a post to the TikTok account uses the shared times and TikTok's
    own; a post to Instagram only does not get TikTok's time."""
    from tests.studio.conftest import connections_by_platform

    slug = creator.slug
    tiktok = connections_by_platform(creator.org)["tiktok"]
    assert _add_time(creator.client, slug, 4, "12:00").status_code == 303  # Friday, every account
    assert _add_time(creator.client, slug, 1, "07:15", connection_id=str(tiktok.id)).status_code == 303  # Tuesday
    page = creator.client.get(f"/o/{slug}/studio/queue").get_data(as_text=True)
    assert f"@{tiktok.account_name} (Tiktok)" in page
    tuesday, friday = _next(1, 7, 15), _next(4, 12, 0)

    data = post_form(creator, platforms=("tiktok",), action="draft", caption="TikTok only")
    assert creator.client.post(f"/o/{slug}/studio/posts/new", data).status_code == 303
    tiktok_post = db.session.scalar(select(Post).order_by(Post.id.desc()))
    data = post_form(creator, platforms=("instagram",), action="draft", caption="Instagram only")
    assert creator.client.post(f"/o/{slug}/studio/posts/new", data).status_code == 303
    instagram_post = db.session.scalar(select(Post).order_by(Post.id.desc()))

    assert creator.client.post(f"/o/{slug}/studio/posts/{instagram_post.id}/queue").status_code == 303
    assert creator.client.post(f"/o/{slug}/studio/posts/{tiktok_post.id}/queue").status_code == 303
    # Instagram has only the shared Friday; the TikTok post finds Friday taken and takes TikTok's own Tuesday.
    assert _reload(instagram_post).scheduled_at == friday
    assert _reload(tiktok_post).scheduled_at == tuesday
    assert {t.due_at for t in _reload(tiktok_post).targets} == {_reload(tiktok_post).scheduled_at}
