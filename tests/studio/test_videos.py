"""Uploads streamed to storage, probed with ffprobe into READY or FAILED with a human reason."""

import io

from sqlalchemy import select

from tests.factories import make_org, make_user
from tests.studio.conftest import post_form, set_settings, upload
from webapp.extensions import db
from webapp.storage import storage
from webapp.studio.models import Video


def _owner(client, slug):
    user = make_user(f"person.{slug}@example.com")
    org = make_org(user, slug.title(), f"{slug}-co")
    client.login(user.email)
    return org


def _video(org):
    video = db.session.scalar(select(Video).where(Video.organization_id == org.id).order_by(Video.id.desc()))
    db.session.refresh(video)
    return video


def test_vertical_upload_is_probed_ready_with_facts_and_thumbnail(ctx, client, run_jobs, video_files):
    org = _owner(client, "vids-ready")
    response = upload(client, org.slug, video_files["vertical"], title="Kitchen tour")
    assert response.status_code == 303
    video = _video(org)
    assert video.status == Video.PROCESSING
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Checking the video" in page and 'hx-trigger="every 2s"' in page
    run_jobs()
    video = _video(org)
    assert video.status == Video.READY
    assert (video.width, video.height, video.aspect_ratio, video.codec) == (1080, 1920, "9:16", "h264")
    assert 3.9 < video.duration_seconds < 4.1 and video.frame_rate == "30"
    assert storage().size(video.storage_key) == video.file_size == video_files["vertical"].stat().st_size
    thumb = client.get(f"/o/{org.slug}/studio/videos/{video.id}/thumbnail.jpg")
    assert thumb.status_code == 200 and thumb.data[:3] == b"\xff\xd8\xff"
    fragment = client.get(f"/o/{org.slug}/studio/videos/{video.id}", htmx=True).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="video_status"') and "Ready" in fragment and "1080x1920" in fragment


def test_landscape_and_too_long_videos_fail_with_reasons(ctx, client, run_jobs, video_files):
    org = _owner(client, "vids-fail")
    upload(client, org.slug, video_files["landscape"], title="Wide", run_jobs=run_jobs)
    wide = _video(org)
    assert wide.status == Video.FAILED
    assert "not 9:16" in wide.failure_reason and "16:9" in wide.failure_reason
    set_settings(required_aspect="", tiktok_max_seconds=120, instagram_max_seconds=90, youtube_max_seconds=60)
    upload(client, org.slug, video_files["long"], title="Long", run_jobs=run_jobs)
    long = _video(org)
    assert long.status == Video.FAILED and "longer than the platforms allow (2 min 0 s)" in long.failure_reason
    page = client.get(f"/o/{org.slug}/studio/videos").get_data(as_text=True)
    assert "not 9:16" in page and "longer than the platforms allow" in page


def test_bad_files_are_refused_on_the_form(ctx, client, run_jobs):
    org = _owner(client, "vids-bad")
    bad_ext = client.post(
        f"/o/{org.slug}/studio/videos",
        {"file": (io.BytesIO(b"hello"), "notes.txt")},
        content_type="multipart/form-data",
    )
    assert bad_ext.status_code == 422 and "Upload an .mp4 or .mov video." in bad_ext.get_data(as_text=True)
    fake = client.post(
        f"/o/{org.slug}/studio/videos",
        {"file": (io.BytesIO(b"not a video at all"), "clip.mp4")},
        content_type="multipart/form-data",
    )
    assert fake.status_code == 422 and "not an MP4 or MOV" in fake.get_data(as_text=True)
    assert db.session.scalar(select(Video.id).where(Video.organization_id == org.id)) is None
    nothing = client.post(f"/o/{org.slug}/studio/videos", {"title": "x"}, content_type="multipart/form-data")
    assert nothing.status_code == 422 and "Choose a video file." in nothing.get_data(as_text=True)


def test_delete_is_blocked_while_a_post_is_scheduled(creator, run_jobs):
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from webapp.core.models import utcnow

    local = (utcnow() + timedelta(days=2)).astimezone(ZoneInfo(creator.org.timezone))
    data = post_form(creator, action="schedule", schedule_date=local.date().isoformat(), schedule_time="10:00")
    assert creator.client.post(f"/o/{creator.slug}/studio/posts/new", data).status_code == 303
    refused = creator.client.post(f"/o/{creator.slug}/studio/videos/{creator.video.id}/delete")
    assert refused.status_code == 303
    page = creator.client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "in a scheduled post" in page
    assert db.session.get(Video, creator.video.id) is not None


def test_an_unused_video_can_be_renamed_and_deleted(ctx, client, run_jobs, video_files):
    org = _owner(client, "vids-del")
    upload(client, org.slug, video_files["vertical"], run_jobs=run_jobs)
    video = _video(org)
    key = video.storage_key
    assert client.post(f"/o/{org.slug}/studio/videos/{video.id}/rename", {"title": ""}).status_code == 422
    assert client.post(f"/o/{org.slug}/studio/videos/{video.id}/rename", {"title": "Renamed"}).status_code == 303
    assert _video(org).title == "Renamed"
    assert client.post(f"/o/{org.slug}/studio/videos/{video.id}/delete").status_code == 303
    db.session.expire_all()
    assert db.session.get(Video, video.id) is None
    assert not storage().exists(key)
