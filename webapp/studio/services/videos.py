"""Videos: streamed upload to storage, ffprobe probe → READY/FAILED with a reason a person
understands, thumbnail, rename, delete (refused while a post is scheduled)."""

from __future__ import annotations

import json
import math
import secrets
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select

from webapp.audit import record
from webapp.core.errors import Conflict, DomainError
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.files.services import check_quota, count_stored
from webapp.settings import get
from webapp.storage import ObjectMissing, storage
from webapp.storage.base import TooLarge
from webapp.studio.models import Post, PublishJob, Video

FORMATS = {"mp4": "video/mp4", "mov": "video/quicktime"}
STORAGE_CATEGORY = "studio_videos"  # the organization's storage usage counts videos and thumbnails here
ACCEPTED_CODECS = {"h264", "hevc"}


def content_type(video: Video) -> str:
    return FORMATS.get(video.format, "video/mp4")


def _looks_like_mp4(head: bytes) -> bool:
    # ISO base media (mp4) and QuickTime (mov) files carry a box type at byte 4.
    return len(head) >= 8 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


class _Peek:
    """Wraps a stream so the first bytes can be checked without reading it all."""

    def __init__(self, stream):
        self.stream = stream
        self.head = stream.read(16)
        self._given = False

    def read(self, size=-1):
        if not self._given:
            self._given = True
            return self.head + (self.stream.read(size - len(self.head)) if size and size > len(self.head) else b"")
        return self.stream.read(size)


def upload_video(org, user, stream, filename: str, title: str) -> Video:
    """Store the upload and queue its probe. Bad input → DomainError on the ``file`` field."""
    from webapp.studio.jobs import probe_video

    ext = Path(filename or "").suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise DomainError("Upload an .mp4 or .mov video.", field="file")
    peek = _Peek(stream)
    if not _looks_like_mp4(peek.head):
        raise DomainError("This file is not an MP4 or MOV video.", field="file")
    limit_mb = get("studio.max_upload_mb")
    key = f"studio/{org.id}/videos/{secrets.token_hex(12)}.{ext}"
    try:
        size = storage().save(key, peek, max_bytes=limit_mb * 1024 * 1024, content_type=FORMATS[ext])
    except TooLarge:
        raise DomainError(f"The video is larger than {limit_mb} MB.", field="file") from None
    if size == 0:
        storage().delete(key)
        raise DomainError("The file is empty.", field="file")
    try:
        check_quota(org, size)  # the plan's storage limit, as for any file
    except DomainError:
        storage().delete(key)
        raise
    video = Video(
        organization_id=org.id,
        created_by_id=getattr(user, "id", None),
        title=(title or Path(filename).stem or "Untitled")[:200],
        storage_key=key,
        original_filename=(filename or "")[:255],
        format=ext,
        file_size=size,
        status=Video.PROCESSING,
    )
    db.session.add(video)
    db.session.flush()
    count_stored(org.id, STORAGE_CATEGORY, size, 1)
    record(user, "video.uploaded", video, {"size": size, "format": ext})
    probe_video.delay(video.id)
    return video


@contextmanager
def local_copy(key: str):
    """A file path for tools (ffprobe): the local file itself, or a temporary download."""
    store = storage()
    if hasattr(store, "local_path"):
        yield store.local_path(key)
        return
    with tempfile.NamedTemporaryFile(suffix=Path(key).suffix) as tmp, store.open(key) as src:
        shutil.copyfileobj(src, tmp)
        tmp.flush()
        yield Path(tmp.name)


def _ffprobe(path: Path) -> dict | None:
    try:
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    try:
        return json.loads(out.stdout)
    except ValueError:
        return None


def _ratio(width: int, height: int) -> str:
    g = math.gcd(width, height) or 1
    return f"{width // g}:{height // g}"


def _duration_text(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def longest_allowed() -> int:
    return max(get("studio.tiktok_max_seconds"), get("studio.instagram_max_seconds"), get("studio.youtube_max_seconds"))


def assess(info: dict | None) -> tuple[dict, str | None]:
    """Facts from ffprobe's answer and the reason the video cannot be used (None when it can)."""
    if info is None:
        return {}, "We could not read this file as a video (ffprobe could not open it)."
    streams = [s for s in info.get("streams") or [] if s.get("codec_type") == "video"]
    if not streams:
        return {}, "This file has no video track."
    stream = streams[0]
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    rotation = 0
    for side in stream.get("side_data_list") or []:
        rotation = int(side.get("rotation") or 0)
    if abs(rotation) in (90, 270):
        width, height = height, width
    try:
        duration = float(info.get("format", {}).get("duration") or stream.get("duration") or 0)
    except ValueError:
        duration = 0.0
    num, _, den = (stream.get("avg_frame_rate") or stream.get("r_frame_rate") or "0/1").partition("/")
    fps = float(num) / float(den or 1) if float(den or 1) else 0.0
    facts = {
        "duration_ms": int(duration * 1000),
        "width": width,
        "height": height,
        "aspect_ratio": _ratio(width, height) if width and height else "",
        "codec": stream.get("codec_name", ""),
        "frame_rate": f"{fps:.3g}",
    }
    if not width or not height:
        return facts, "The video has no picture size; it may be damaged."
    if duration < get("studio.min_duration_seconds"):
        return (
            facts,
            f"It is {duration:.1f} s long, shorter than the {get('studio.min_duration_seconds')} s platforms accept.",
        )
    if duration > longest_allowed():
        allowed = _duration_text(longest_allowed())
        return facts, f"It is {_duration_text(duration)} long, longer than the platforms allow ({allowed})."
    required = (get("studio.required_aspect") or "").strip()
    if required:
        try:
            rw, rh = (int(x) for x in required.split(":"))
        except ValueError:
            rw = rh = 0
        if rw and rh and abs((width / height) / (rw / rh) - 1) * 100 > get("studio.aspect_tolerance_pct"):
            return (
                facts,
                f"It is not {required} (it is {facts['aspect_ratio']}, {width}x{height}); vertical video is required.",
            )
    if facts["codec"] not in ACCEPTED_CODECS:
        return facts, f"It uses the {facts['codec'] or 'unknown'} codec; the platforms accept H.264 or HEVC video."
    return facts, None


def probe(video: Video) -> Video:
    """Probe with ffprobe and make a thumbnail; READY or FAILED with the reason. Safe to run twice."""
    if video.status != Video.PROCESSING:
        return video
    if shutil.which("ffprobe") is None:
        video.status, video.failure_reason = Video.FAILED, "The server cannot inspect videos (ffprobe is missing)."
        return video
    with local_copy(video.storage_key) as path:
        facts, reason = assess(_ffprobe(path))
        for name, value in facts.items():
            setattr(video, name, value)
        if reason is None and not video.thumbnail_key:
            video.thumbnail_key, video.thumbnail_size = _thumbnail(video, path)
            count_stored(video.organization_id, STORAGE_CATEGORY, video.thumbnail_size)
    video.probed_at = utcnow()
    video.status = Video.FAILED if reason else Video.READY
    video.failure_reason = reason
    from webapp.core.events import emit

    emit("video.failed" if reason else "video.ready", org=video.organization_id, video_id=video.id)
    return video


def _thumbnail(video: Video, path: Path) -> tuple[str | None, int]:
    """A 270-pixel-wide JPEG of the frame at 1 s (or mid-video), stored beside the video: (key, bytes)."""
    if shutil.which("ffmpeg") is None:
        return None, 0
    at = min(1.0, video.duration_seconds / 2)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "thumb.jpg"
        result = subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-ss",
                f"{at:.2f}",
                "-i",
                str(path),
                "-frames:v",
                "1",
                "-vf",
                "scale=270:-2",
                str(out),
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0 or not out.exists():
            return None, 0
        key = video.storage_key.rsplit(".", 1)[0] + ".thumb.jpg"
        with out.open("rb") as fh:
            size = storage().save(key, fh, content_type="image/jpeg")
        return key, size


def rename_video(video: Video, user, title: str) -> Video:
    title = (title or "").strip()
    if not title:
        raise DomainError("Give the video a title.", field="title")
    video.title = title[:200]
    record(user, "video.renamed", video, {"title": video.title})
    return video


def delete_video(video: Video, user) -> None:
    blocking = db.session.scalar(
        select(Post.id)
        .join(PublishJob, PublishJob.post_id == Post.id)
        .where(
            Post.video_id == video.id,
            PublishJob.status.in_((PublishJob.PENDING, PublishJob.ACTIVE, PublishJob.DELAYED)),
        )
        .limit(1)
    )
    if blocking is not None:
        raise Conflict("This video is in a scheduled post. Cancel or publish the post first.", code="video_scheduled")
    used = db.session.scalar(select(Post.id).where(Post.video_id == video.id).limit(1))
    if used is not None:
        raise Conflict(
            "This video belongs to posts; delete those drafts first or keep it for their history.", code="video_in_use"
        )
    for key in (video.storage_key, video.thumbnail_key):
        if key:
            storage().delete(key)
    count_stored(video.organization_id, STORAGE_CATEGORY, -(video.file_size + (video.thumbnail_size or 0)), -1)
    record(user, "video.deleted", video, {"title": video.title})
    db.session.delete(video)


def stored_bytes(org_id: int) -> tuple[int, int]:
    """(bytes, videos) the organization's videos and thumbnails take, for the storage recount."""
    size, count = db.session.execute(
        select(func.coalesce(func.sum(Video.file_size + Video.thumbnail_size), 0), func.count(Video.id)).where(
            Video.organization_id == org_id
        )
    ).one()
    return int(size), int(count)


def backfill_thumbnails(limit: int = 50) -> int:
    """READY videos without a thumbnail get one (ffmpeg missing at the time, or uploaded before), and
    thumbnails stored before their size was recorded are measured, so storage counts them."""
    from webapp.core.transaction import commit_progress

    done = 0
    missing = select(Video).where(Video.status == Video.READY, Video.thumbnail_key.is_(None)).order_by(Video.id)
    for video in db.session.scalars(missing.limit(limit)).all():
        with local_copy(video.storage_key) as path:
            video.thumbnail_key, video.thumbnail_size = _thumbnail(video, path)
        if video.thumbnail_key:
            count_stored(video.organization_id, STORAGE_CATEGORY, video.thumbnail_size)
            done += 1
        commit_progress("each thumbnail is saved with its video (a maintenance job)")
    unmeasured = select(Video).where(Video.thumbnail_key.is_not(None), Video.thumbnail_size == 0).order_by(Video.id)
    for video in db.session.scalars(unmeasured.limit(limit)).all():
        try:
            video.thumbnail_size = storage().size(video.thumbnail_key or "")  # the query asked for a key
        except ObjectMissing:
            video.thumbnail_key = None  # made again on the next run
            continue
        count_stored(video.organization_id, STORAGE_CATEGORY, video.thumbnail_size)
        done += 1
    commit_progress("the measured thumbnails enter the storage figures")
    return done
