"""Calendar and media: thumbnails made by the probe job with ffmpeg (checked with ffprobe), counted in
the organization's storage; the video library (search, sizes, used in, reuse); thumbnails on calendar
entries; retention of metric snapshots and publish attempts (time travel)."""

import json
import shutil
import subprocess
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from tests.factories import make_org, make_user
from tests.studio.conftest import make_video_file, post_form, upload
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.files.models import StorageUsage
from webapp.storage import storage
from webapp.studio.models import MetricSnapshot, Post, PublishAttempt, PublishedPost, PublishJob, Video


def _owner(client, slug):
    user = make_user(f"media.{slug}@example.com")
    org = make_org(user, slug.title(), f"{slug}-co")
    client.login(user.email)
    return org


def _latest_video(org):
    db.session.expire_all()
    return db.session.scalar(select(Video).where(Video.organization_id == org.id).order_by(Video.id.desc()))


def _usage(org):
    db.session.expire_all()
    row = db.session.scalar(
        select(StorageUsage).where(StorageUsage.organization_id == org.id, StorageUsage.category == "studio_videos")
    )
    return (row.bytes_used, row.file_count) if row else (0, 0)


def _ffprobe(path) -> dict:
    out = subprocess.run(
        [shutil.which("ffprobe"), "-v", "error", "-print_format", "json", "-show_streams", str(path)],
        capture_output=True,
        check=True,
    )
    return json.loads(out.stdout)["streams"][0]


def test_probe_job_makes_a_thumbnail_counted_in_storage(ctx, client, run_jobs, tmp_path):
    from webapp.files import services as files

    org = _owner(client, "thumbs")
    tiny = make_video_file(tmp_path / "tiny.mp4", size="90x160", seconds=3, rate=10)
    assert upload(client, org.slug, tiny, title="Tiny one").status_code == 303
    video = _latest_video(org)
    assert video.thumbnail_key is None and _usage(org) == (tiny.stat().st_size, 1)  # the video, before the job
    run_jobs()
    video = _latest_video(org)
    assert video.status == Video.READY and video.thumbnail_key
    assert video.thumbnail_size == storage().size(video.thumbnail_key) > 0
    image = client.get(f"/o/{org.slug}/studio/videos/{video.id}/thumbnail.jpg")
    assert image.status_code == 200
    (tmp_path / "thumb.jpg").write_bytes(image.data)
    stream = _ffprobe(tmp_path / "thumb.jpg")
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("mjpeg", 270, 480)
    assert _usage(org) == (video.file_size + video.thumbnail_size, 1)
    # The files page shows Studio's share; the daily recount arrives at the same figure.
    page = client.get(f"/o/{org.slug}/files/").get_data(as_text=True)
    assert "Studio videos" in page
    files.recalculate_usage(org.id)
    db.session.commit()
    assert _usage(org) == (video.file_size + video.thumbnail_size, 1)
    # The probe runs again (a job delivered twice): no second thumbnail, no double count.
    from webapp.studio.jobs import probe_video

    video.status = Video.PROCESSING
    db.session.commit()
    probe_video(video.id)
    db.session.commit()
    assert _usage(org) == (video.file_size + video.thumbnail_size, 1)
    # Deleting the video frees both files and their bytes.
    keys = (video.storage_key, video.thumbnail_key)
    assert client.post(f"/o/{org.slug}/studio/videos/{video.id}/delete").status_code == 303
    assert _usage(org) == (0, 0) and not any(storage().exists(k) for k in keys)


def test_upload_over_the_storage_quota_is_refused_and_nothing_kept(ctx, client, run_jobs, video_files):
    org = _owner(client, "fullstore")
    quota = 1024 * 1024 * 1024  # the FREE plan's 1 GB
    db.session.add(StorageUsage(organization_id=org.id, category="project_assets", bytes_used=quota - 1000))
    db.session.commit()
    response = upload(client, org.slug, video_files["vertical"], title="Too much")
    assert response.status_code == 422
    assert "This file needs" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Video.id)).where(Video.organization_id == org.id)) == 0
    assert _usage(org) == (0, 0)


def test_library_search_sizes_used_in_and_reuse(creator, tmp_path, run_jobs, make_client):
    slug, client = creator.slug, creator.client
    for title, size, seconds in (("Matcha 100% whisked", "90x160", 5), ("Bamboo walk", "180x320", 3)):
        path = make_video_file(tmp_path / f"{seconds}.mp4", size=size, seconds=seconds, rate=10)
        assert upload(client, slug, path, title=title, run_jobs=run_jobs).status_code == 303
    videos = {v.title: v for v in db.session.scalars(select(Video).where(Video.organization_id == creator.org.id))}
    matcha, bamboo, first = videos["Matcha 100% whisked"], videos["Bamboo walk"], creator.video
    # The first video is reused in two posts.
    for caption in ("Breakfast one", "Breakfast two"):
        data = post_form(creator, action="draft", caption=caption)
        assert client.post(f"/o/{slug}/studio/posts/new", data).status_code == 303

    page = client.get(f"/o/{slug}/studio/videos").get_data(as_text=True)
    row = page[page.index(f'id="video-{first.id}"') :]
    row = row[: row.index("</tr>")]
    assert "2 posts" in row and "Breakfast one" in row and "Breakfast two" in row
    assert f"/o/{slug}/studio/posts/new?video_id={first.id}" in row
    assert "Not used yet" in page[page.index(f'id="video-{matcha.id}"') :]

    # Search by name (a % in the query is a character, not a wildcard), and by file name.
    found = client.get(f"/o/{slug}/studio/videos", query_string={"q": "100%"}).get_data(as_text=True)
    assert f'id="video-{matcha.id}"' in found and f'id="video-{bamboo.id}"' not in found
    assert f'id="video-{first.id}"' not in client.get(f"/o/{slug}/studio/videos?q=%25%25").get_data(as_text=True)
    fragment = client.get(f"/o/{slug}/studio/videos?q=bamboo", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and f'id="video-{bamboo.id}"' in fragment and "Matcha" not in fragment
    none = client.get(f"/o/{slug}/studio/videos?q=nothing-like-this").get_data(as_text=True)
    assert "No videos match" in none
    assert client.get(f"/o/{slug}/studio/videos", query_string={"q": "x" * 5000, "sort": "'; drop"}).status_code == 200

    # Sorting by size, length and use.
    def order(sort):
        html = client.get(f"/o/{slug}/studio/videos?sort={sort}").get_data(as_text=True)
        return [t for _, t in sorted((html.index(f'id="video-{v.id}"'), v.title) for v in (first, matcha, bamboo))]

    assert order("largest")[0] == first.title  # 1080x1920 at 30 fps is the biggest file
    assert order("longest")[0] == "Matcha 100% whisked"
    assert order("most_used")[0] == first.title
    assert order("name") == ["Bamboo walk", "Matcha 100% whisked", first.title]

    # Reuse: the composer opens with the video chosen; the video page lists its posts.
    composer = client.get(f"/o/{slug}/studio/posts/new?video_id={matcha.id}").get_data(as_text=True)
    assert f'<option selected value="{matcha.id}">' in composer or f'value="{matcha.id}" selected' in composer
    detail = client.get(f"/o/{slug}/studio/videos/{first.id}").get_data(as_text=True)
    assert 'id="used-in"' in detail and "Breakfast two" in detail

    # Another organization sees none of it.
    stranger = make_user("library-stranger@example.com")
    other = make_org(stranger, "Elsewhere", "library-elsewhere")
    sc = make_client()
    sc.login(stranger.email)
    assert sc.get(f"/o/{slug}/studio/videos").status_code == 404
    assert sc.get(f"/o/{other.slug}/studio/videos/{first.id}").status_code == 404
    assert sc.get(f"/o/{other.slug}/studio/videos/{first.id}/thumbnail.jpg").status_code == 404
    assert "Matcha" not in sc.get(f"/o/{other.slug}/studio/videos?q=matcha").get_data(as_text=True)


def test_calendar_entries_show_the_video_thumbnail(creator):
    data = post_form(creator, action="schedule", schedule_date=(utcnow() + timedelta(days=2)).date().isoformat())
    data["schedule_time"] = "10:00"
    assert creator.client.post(f"/o/{creator.slug}/studio/posts/new", data).status_code == 303
    post = db.session.scalar(select(Post).where(Post.organization_id == creator.org.id))
    start = post.scheduled_at.date().isoformat()
    for view in ("month", "week"):
        html = creator.client.get(f"/o/{creator.slug}/studio/calendar?view={view}&start={start}").get_data(as_text=True)
        chip = html[html.index(f'/studio/posts/{post.id}"') :]
        chip = chip[: chip.index("</a>")]
        assert f'<img class="chip-thumb" src="/o/{creator.slug}/studio/videos/{creator.video.id}/thumbnail.jpg"' in chip


def _history(org, video):
    """A published post with a snapshot a day for ten days, one with a single snapshot, and attempts of a
    finished target and of one still waiting to run."""
    now = utcnow()
    out = {}
    for name, days in (("long", 10), ("single", 0)):
        post = Post(organization_id=org.id, video_id=video.id, caption=name, status=Post.PUBLISHED)
        job = PublishJob(organization_id=org.id, platform="TIKTOK", status=PublishJob.COMPLETED, platform_post_id=name)
        post.targets.append(job)
        db.session.add(post)
        db.session.flush()
        published = PublishedPost(
            organization_id=org.id, post_id=post.id, job_id=job.id, video_id=video.id, platform="TIKTOK",
            platform_post_id=name, published_at=now,
        )  # fmt: skip
        db.session.add(published)
        db.session.flush()
        for day in range(days + 1):
            db.session.add(
                MetricSnapshot(published_post_id=published.id, taken_at=now + timedelta(days=day), views=100 * day)
            )
        db.session.add(PublishAttempt(job_id=job.id, attempt_number=1, step="published", outcome="ok", created_at=now))
        out[name] = published
    waiting = Post(organization_id=org.id, video_id=video.id, caption="waiting", status=Post.SCHEDULED)
    pending = PublishJob(organization_id=org.id, platform="YOUTUBE", status=PublishJob.DELAYED)
    waiting.targets.append(pending)
    db.session.add(waiting)
    db.session.flush()
    db.session.add(PublishAttempt(job_id=pending.id, attempt_number=1, step="quota", outcome="retry", created_at=now))
    db.session.commit()
    out["pending"] = pending
    return out


def _snapshot_days(published):
    rows = db.session.scalars(
        select(MetricSnapshot.views).where(MetricSnapshot.published_post_id == published.id).order_by(MetricSnapshot.id)
    )
    return [v // 100 for v in rows]


def test_retention_prunes_old_history_in_batches_and_keeps_the_latest_snapshot(ctx):
    from webapp.audit.models import AuditEntry
    from webapp.studio.jobs import prune_studio_history
    from webapp.studio.services import retention

    owner = make_user("retention@example.com")
    org = make_org(owner, "Keep Less", "keep-less")
    video = Video(organization_id=org.id, title="v", storage_key="studio/x/retention.mp4", format="mp4")
    db.session.add(video)
    db.session.flush()
    rows = _history(org, video)
    assert prune_studio_history() == {"snapshots": 0, "attempts": 0}  # nothing is old yet

    with time_machine.travel(utcnow() + timedelta(days=404, hours=12), tick=False):
        # Snapshots before day 5 are past 400 days; the ten-day post keeps days 5..10, the other its only one.
        assert retention.prune_snapshots(batch=2) == 5
        db.session.commit()
        assert _snapshot_days(rows["long"]) == [5, 6, 7, 8, 9, 10]
        assert _snapshot_days(rows["single"]) == [0]
        deleted = prune_studio_history()
        assert deleted == {"snapshots": 0, "attempts": 2}  # the finished targets' attempts; not the waiting one
        assert prune_studio_history() == {"snapshots": 0, "attempts": 0}  # idempotent
    db.session.expire_all()
    left = db.session.scalars(select(PublishAttempt.job_id)).all()
    assert left == [rows["pending"].id]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "maintenance.studio_history_pruned"))
    assert [e.details for e in entries] == [{"snapshots": 0, "attempts": 2}]

    # Much later, everything but each post's latest snapshot goes; the settings move the line.
    from webapp.settings.services import update_setting

    update_setting("studio.snapshot_retention_days", "30", None)
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(days=60), tick=False):
        assert prune_studio_history()["snapshots"] == 5
    db.session.expire_all()
    assert _snapshot_days(rows["long"]) == [10] and _snapshot_days(rows["single"]) == [0]


def test_backfill_makes_missing_thumbnails_and_measures_old_ones(ctx, client, run_jobs, tmp_path):
    from webapp.files import services as files
    from webapp.studio.jobs import backfill_video_thumbnails

    org = _owner(client, "backfill")
    for name in ("one", "two"):
        path = make_video_file(tmp_path / f"{name}.mp4", size="90x160", seconds=3, rate=10)
        assert upload(client, org.slug, path, title=name, run_jobs=run_jobs).status_code == 303
    one, two = db.session.scalars(select(Video).where(Video.organization_id == org.id).order_by(Video.id)).all()
    # As before this change: one made without a thumbnail (no ffmpeg then), one whose size was not kept.
    storage().delete(one.thumbnail_key)
    one.thumbnail_key, one.thumbnail_size, two.thumbnail_size = None, 0, 0
    db.session.commit()
    files.recalculate_usage(org.id)
    db.session.commit()
    assert _usage(org) == (one.file_size + two.file_size, 2)

    assert backfill_video_thumbnails() == 2
    db.session.commit()
    assert backfill_video_thumbnails() == 0  # nothing left to do
    db.session.expire_all()
    one, two = db.session.get(Video, one.id), db.session.get(Video, two.id)
    assert one.thumbnail_key and one.thumbnail_size == storage().size(one.thumbnail_key) > 0
    assert two.thumbnail_size == storage().size(two.thumbnail_key) > 0
    total = one.file_size + one.thumbnail_size + two.file_size + two.thumbnail_size
    assert _usage(org) == (total, 2)
    files.recalculate_usage(org.id)
    db.session.commit()
    assert _usage(org) == (total, 2)
