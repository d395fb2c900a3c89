"""Studio fixtures: real videos made with ffmpeg, accounts connected through the OAuth routes and
the sandbox process (over real HTTP), fast publishing settings."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.factories import make_org, make_user
from webapp.extensions import db

FFMPEG = shutil.which("ffmpeg")


def make_video_file(path: Path, *, size="1080x1920", seconds=4, rate=30) -> Path:
    assert FFMPEG, "ffmpeg is needed for the studio tests"
    subprocess.run(
        [
            FFMPEG,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size={size}:rate={rate}:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    return path


@pytest.fixture(scope="session")
def video_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    return {
        "vertical": make_video_file(root / "vertical.mp4"),
        "landscape": make_video_file(root / "landscape.mp4", size="640x360", seconds=4),
        # small files keep the test client from spooling uploads to temporary files
        "long": make_video_file(root / "long.mp4", size="72x128", seconds=200, rate=1),
    }


def set_settings(**values) -> None:
    from webapp.settings.services import update_setting

    for key, value in values.items():
        update_setting(f"studio.{key}", str(value), None)
    db.session.commit()


@pytest.fixture
def fast(ctx):
    """No waiting between polls or before retries."""
    set_settings(poll_interval_ms=0, retry_base_seconds=0)


def sandbox_base(client) -> str:
    return client.application.config["SANDBOX_URL"] + "/sandbox"


def sandbox_control(client, platform: str, **body):
    """Switch faults on (or just read the state) in a platform's sandbox, in the sandbox process."""
    response = httpx.post(f"{sandbox_base(client)}/{platform}/_control", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def published_count(client, platform: str) -> int:
    return sandbox_control(client, platform)["published"]


def connect(client, slug: str, platform: str, username: str = "sandbox_creator"):
    """The whole OAuth dance through our routes and the sandbox's consent screen."""
    start = client.post(f"/o/{slug}/studio/connections/connect", {"platform": platform})
    assert start.status_code == 303, start.get_data(as_text=True)[:500]
    authorize = urlsplit(start.headers["Location"])
    assert start.headers["Location"].startswith(sandbox_base(client))
    consent = httpx.get(start.headers["Location"], timeout=10)
    assert consent.status_code == 200
    fields = dict(parse_qsl(authorize.query))
    fields.update(username=username, decision="allow")
    answer = httpx.post(start.headers["Location"].split("?", 1)[0], data=fields, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    callback = urlsplit(answer.headers["Location"])
    done = client.get(callback.path + "?" + callback.query)
    assert done.status_code == 303, done.get_data(as_text=True)[:1500]
    return done


def upload(client, slug: str, path: Path, title: str = "Morning routine", run_jobs=None):
    with path.open("rb") as fh:
        response = client.post(
            f"/o/{slug}/studio/videos", {"title": title, "file": (fh, path.name)}, content_type="multipart/form-data"
        )
    if run_jobs:
        run_jobs()
    return response


@pytest.fixture
def creator(ctx, client, run_jobs, video_files, fast):
    """A logged-in creator with TikTok, Instagram and YouTube connected and one READY video."""
    from sqlalchemy import select

    from webapp.studio.models import Video

    user = make_user("creator@example.com")
    org = make_org(user, "Creator Co", "creator-co")
    client.login(user.email)
    for platform in ("tiktok", "instagram", "youtube"):
        connect(client, org.slug, platform)
    assert upload(client, org.slug, video_files["vertical"], run_jobs=run_jobs).status_code == 303
    video = db.session.scalar(select(Video).where(Video.organization_id == org.id))
    db.session.refresh(video)
    assert video.status == Video.READY, video.failure_reason

    class Creator:
        pass

    c = Creator()
    c.user, c.org, c.slug, c.video, c.client = user, org, org.slug, video, client
    return c


def connections_by_platform(org):
    from sqlalchemy import select

    from webapp.integrations.models import Connection

    return {c.provider: c for c in db.session.scalars(select(Connection).where(Connection.organization_id == org.id))}


def post_form(creator, *, platforms=("tiktok", "instagram", "youtube"), action="now", **extra):
    conns = connections_by_platform(creator.org)
    data = {
        "video_id": creator.video.id,
        "caption": "Five-minute breakfast",
        "hashtags": "#breakfast quick",
        "action": action,
        "youtube_privacy": "public",
        "instagram_share_to_feed": "y",
    }
    if "tiktok" in platforms:
        data.update(tiktok_account=conns["tiktok"].id, tiktok_privacy="PUBLIC_TO_EVERYONE", tiktok_allow_comment="y")
    if "instagram" in platforms:
        data.update(instagram_account=conns["instagram"].id)
    if "youtube" in platforms:
        data.update(youtube_account=conns["youtube"].id, youtube_title="Five-minute breakfast")
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}
