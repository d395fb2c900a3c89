"""Studio (seed 002): platform accounts, videos, posts with one publish job per platform target,
attempt records, published posts with metric history, and the YouTube quota ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from webapp.core.models import BigId, OrgOwnedMixin, TimestampMixin, utcnow
from webapp.extensions import Model
from webapp.jobs.lease import LeaseMixin

TIKTOK, INSTAGRAM, YOUTUBE = "TIKTOK", "INSTAGRAM", "YOUTUBE"
PLATFORMS = (TIKTOK, INSTAGRAM, YOUTUBE)
PLATFORM_LABELS = {TIKTOK: "TikTok", INSTAGRAM: "Instagram", YOUTUBE: "YouTube"}
PROVIDER_OF = {TIKTOK: "tiktok", INSTAGRAM: "instagram", YOUTUBE: "youtube"}  # OAuth provider names
PLATFORM_OF = {v: k for k, v in PROVIDER_OF.items()}
# The integrations framework's connection states, as creators see them (seed 002 ConnectionStatus).
CONNECTION_STATUS = {"CONNECTED": "ACTIVE", "EXPIRED": "EXPIRED", "DISCONNECTED": "REVOKED", "ERROR": "ERROR"}


class Video(TimestampMixin, OrgOwnedMixin, Model):
    __tablename__ = "studio_videos"

    PROCESSING, READY, FAILED = "PROCESSING", "READY", "FAILED"

    title: Mapped[str] = mapped_column(String(200))
    storage_key: Mapped[str] = mapped_column(String(512), unique=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(512))
    thumbnail_size: Mapped[int] = mapped_column(BigId, default=0)  # bytes, counted in storage with file_size
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    format: Mapped[str] = mapped_column(String(8))
    file_size: Mapped[int] = mapped_column(BigId, default=0)
    status: Mapped[str] = mapped_column(String(16), default=PROCESSING, index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    aspect_ratio: Mapped[str | None] = mapped_column(String(16))
    codec: Mapped[str | None] = mapped_column(String(32))
    frame_rate: Mapped[str | None] = mapped_column(String(16))
    probed_at: Mapped[datetime | None]

    @property
    def duration_seconds(self) -> float:
        return (self.duration_ms or 0) / 1000

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}" if self.width else ""


class Post(TimestampMixin, OrgOwnedMixin, Model):
    """A video with caption and hashtags, published to one or more platform targets."""

    __tablename__ = "studio_posts"
    __table_args__ = (Index("ix_studio_posts_org_scheduled", "organization_id", "scheduled_at"),)

    DRAFT, SCHEDULED, PUBLISHING, PUBLISHED, PARTIAL, FAILED, CANCELLED = (
        "DRAFT",
        "SCHEDULED",
        "PUBLISHING",
        "PUBLISHED",
        "PARTIAL",
        "FAILED",
        "CANCELLED",
    )
    NEEDS_APPROVAL = "NEEDS_APPROVAL"
    STATUSES = (DRAFT, NEEDS_APPROVAL, SCHEDULED, PUBLISHING, PUBLISHED, PARTIAL, FAILED, CANCELLED)
    # ``approval``: None (not needed), PENDING (a member asked), APPROVED, REJECTED (back to draft with
    # ``approval_comment`` for the author). Only None and APPROVED may be claimed by a publisher.
    APPROVAL_PENDING, APPROVAL_APPROVED, APPROVAL_REJECTED = "PENDING", "APPROVED", "REJECTED"
    PUBLISHABLE_APPROVALS = (APPROVAL_APPROVED,)

    video_id: Mapped[int] = mapped_column(BigId, ForeignKey("studio_videos.id", ondelete="RESTRICT"), index=True)
    caption: Mapped[str] = mapped_column(Text, default="")
    hashtags: Mapped[list] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    scheduled_at: Mapped[datetime | None]  # UTC
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")  # the IANA zone it was planned in
    approval: Mapped[str | None] = mapped_column(String(16))
    approval_comment: Mapped[str | None] = mapped_column(Text)
    approval_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    approval_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    queued: Mapped[bool] = mapped_column(Boolean, default=False)  # its time comes from the posting queue

    video: Mapped[Video] = relationship(lazy="joined")
    targets: Mapped[list[PublishJob]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="PublishJob.id"
    )

    approval_by = relationship("User", foreign_keys=[approval_by_id])

    @property
    def awaiting_approval(self) -> bool:
        return self.approval == self.APPROVAL_PENDING

    @property
    def full_caption(self) -> str:
        tags = " ".join(f"#{t}" for t in self.hashtags or [])
        return f"{self.caption}\n\n{tags}".strip() if tags else self.caption


class StudioSettings(TimestampMixin, Model):
    """The organization's own Studio settings (one row per organization, made on first change)."""

    __tablename__ = "studio_org_settings"

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), unique=True)
    approval_required: Mapped[bool] = mapped_column(Boolean, default=False)  # posts by members need approval
    queue_paused: Mapped[bool] = mapped_column(Boolean, default=False)  # nothing queued goes out while paused


class HashtagGroup(TimestampMixin, OrgOwnedMixin, Model):
    """A saved set of hashtags the organization's creators add to a post in one click."""

    __tablename__ = "studio_hashtag_groups"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: Mapped[str] = mapped_column(String(80))
    hashtags: Mapped[list] = mapped_column(default=list)

    @property
    def text(self) -> str:
        return " ".join(f"#{t}" for t in self.hashtags or [])


class QueueSlot(TimestampMixin, Model):
    """A weekly posting time of the queue: weekday (0 Monday) and minute of the day, wall clock in the
    organization's zone; for every account (``connection_id`` null) or one platform account."""

    __tablename__ = "studio_queue_slots"

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("connections.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    minute: Mapped[int] = mapped_column(Integer)

    connection = relationship("Connection")

    @property
    def label(self) -> str:
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"


class PublishJob(TimestampMixin, OrgOwnedMixin, LeaseMixin, Model):
    """One platform target of a post and its publishing run (seed 002 ``PublishJob``)."""

    __tablename__ = "studio_publish_jobs"
    __table_args__ = (
        UniqueConstraint("post_id", "platform"),
        Index("ix_studio_publish_jobs_due", "status", "due_at"),
    )

    PENDING, ACTIVE, COMPLETED, FAILED, DELAYED, CANCELLED, DRAFT = (
        "PENDING",
        "ACTIVE",
        "COMPLETED",
        "FAILED",
        "DELAYED",
        "CANCELLED",
        "DRAFT",
    )
    CLAIMABLE = (PENDING, DELAYED)

    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("studio_posts.id", ondelete="CASCADE"), index=True)
    # The integrations framework's Connection (provider "tiktok" / "instagram" / "youtube").
    connection_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("connections.id", ondelete="SET NULL"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    options: Mapped[dict] = mapped_column(default=dict)  # caption override, privacy, switches, title…
    scheduled_for: Mapped[datetime | None]  # what the creator asked for
    due_at: Mapped[datetime | None]  # next time a worker may take it (retries and quota delays move it)
    # The lease (``webapp.jobs.lease``): its owner is the claim token, rotated at every step so a step
    # delivered twice runs once; ``claimed_at`` is when the current step took it.
    lease_owner: Mapped[str | None] = mapped_column("claim_token", String(36))
    claim_token = synonym("lease_owner")
    claimed_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    attempt_number: Mapped[int] = mapped_column(Integer, default=0)
    polls: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[str] = mapped_column(String(32), default="")
    remote: Mapped[dict] = mapped_column(default=dict)  # each step's remote ids, saved before the next
    irreversible_at: Mapped[datetime | None]  # set once, just before the call that publishes
    outcome_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    platform_post_id: Mapped[str | None] = mapped_column(String(128))

    post: Mapped[Post] = relationship(back_populates="targets")
    connection = relationship("Connection")
    attempts: Mapped[list[PublishAttempt]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="PublishAttempt.id"
    )

    @property
    def platform_label(self) -> str:
        return PLATFORM_LABELS[self.platform]


class PublishAttempt(Model):
    __tablename__ = "studio_publish_attempts"
    __table_args__ = (Index("ix_studio_publish_attempts_created_at", "created_at"),)  # retention

    job_id: Mapped[int] = mapped_column(BigId, ForeignKey("studio_publish_jobs.id", ondelete="CASCADE"), index=True)
    attempt_number: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(32))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    excerpt: Mapped[str] = mapped_column(String(500), default="")
    outcome: Mapped[str] = mapped_column(String(16), default="failed")  # ok, failed, retry, unknown
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    job: Mapped[PublishJob] = relationship(back_populates="attempts")


class PublishedPost(TimestampMixin, OrgOwnedMixin, Model):
    __tablename__ = "studio_published_posts"
    __table_args__ = (UniqueConstraint("platform", "platform_post_id"),)

    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("studio_posts.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int] = mapped_column(BigId, ForeignKey("studio_publish_jobs.id", ondelete="CASCADE"), unique=True)
    video_id: Mapped[int] = mapped_column(BigId, ForeignKey("studio_videos.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16), index=True)
    platform_post_id: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(String(500), default="")
    caption: Mapped[str] = mapped_column(Text, default="")
    hashtags: Mapped[list] = mapped_column(default=list)
    published_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    views: Mapped[int] = mapped_column(BigId, default=0)
    likes: Mapped[int] = mapped_column(BigId, default=0)
    comments: Mapped[int] = mapped_column(BigId, default=0)
    shares: Mapped[int] = mapped_column(BigId, default=0)
    last_synced_at: Mapped[datetime | None]
    sync_error: Mapped[str | None] = mapped_column(Text)

    post: Mapped[Post] = relationship()
    snapshots: Mapped[list[MetricSnapshot]] = relationship(
        back_populates="published_post", cascade="all, delete-orphan", order_by="MetricSnapshot.taken_at"
    )


class MetricSnapshot(Model):
    """Metric history: one row per sync, for the charts."""

    __tablename__ = "studio_metric_snapshots"
    # The charts and the retention job read a post's snapshots by time.
    __table_args__ = (Index("ix_studio_metric_snapshots_post_taken", "published_post_id", "taken_at"),)

    published_post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("studio_published_posts.id", ondelete="CASCADE"), index=True
    )
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    views: Mapped[int] = mapped_column(BigId, default=0)
    likes: Mapped[int] = mapped_column(BigId, default=0)
    comments: Mapped[int] = mapped_column(BigId, default=0)
    shares: Mapped[int] = mapped_column(BigId, default=0)

    published_post: Mapped[PublishedPost] = relationship(back_populates="snapshots")


class YouTubeQuota(TimestampMixin, Model):
    """Units used per Pacific quota day and bucket ("upload", "other"); the API project's quota is global."""

    __tablename__ = "studio_youtube_quota"
    __table_args__ = (UniqueConstraint("date", "bucket"),)

    date: Mapped[str] = mapped_column(String(10), index=True)  # YYYY-MM-DD in America/Los_Angeles
    bucket: Mapped[str] = mapped_column(String(16), default="upload")
    used: Mapped[int] = mapped_column(Integer, default=0)
    limit: Mapped[int] = mapped_column(Integer, default=10000)
