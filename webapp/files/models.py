"""Uploaded files (seed 004 ``FileUpload``) and storage usage per organization and category."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import BigId, OrgOwnedMixin, TimestampMixin, utcnow
from webapp.extensions import Model
from webapp.jobs.lease import LeaseMixin

Bytes = BigInteger().with_variant(Integer, "sqlite")

FILE_TYPES = ("TASK_ATTACHMENT", "USER_AVATAR", "PROJECT_ASSET", "WORKSPACE_LOGO", "TEMPORARY_UPLOAD")
CATEGORY = {  # storage-usage category of each file type
    "TASK_ATTACHMENT": "task_attachments",
    "USER_AVATAR": "user_avatars",
    "PROJECT_ASSET": "project_assets",
    "WORKSPACE_LOGO": "project_assets",
    "TEMPORARY_UPLOAD": "temporary_files",
    # Not uploadable: a Drive file's content cached while it is attached to a task (integrations).
    "DRIVE_CACHE": "drive_cache",
}
# "studio_videos": Studio's uploads and their thumbnails (counted by webapp.studio.services.videos).
CATEGORIES = ("task_attachments", "project_assets", "user_avatars", "temporary_files", "drive_cache", "studio_videos")


class FileUpload(TimestampMixin, OrgOwnedMixin, LeaseMixin, Model):
    __tablename__ = "file_uploads"
    __table_args__ = (
        Index("ix_file_uploads_org_live", "organization_id", "deleted_at", "id"),
        Index("ix_file_uploads_expiring", "is_temporary", "expires_at"),
    )

    UPLOADING, COMPLETED, FAILED = "UPLOADING", "COMPLETED", "FAILED"
    SCAN_PENDING, VIRUS_DETECTED = "VIRUS_SCAN_PENDING", "VIRUS_DETECTED"

    original_name: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(512))
    size: Mapped[int] = mapped_column(Bytes, default=0)
    mime_type: Mapped[str] = mapped_column(String(127))
    file_type: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(24), default=UPLOADING)
    checksum_md5: Mapped[str | None] = mapped_column(String(32))
    scan_result: Mapped[str | None] = mapped_column(Text)  # what the scanner said, or why no scan ran
    project_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("projects.id", ondelete="SET NULL"))
    task_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tasks.id", ondelete="SET NULL"))
    is_temporary: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]

    @property
    def category(self) -> str:
        return CATEGORY[self.file_type]

    @property
    def downloadable(self) -> bool:
        return self.status == self.COMPLETED and self.deleted_at is None


class StorageUsage(Model):
    """Bytes and files per organization and category; kept current on each upload and delete, and
    recalculated from the files by a daily job."""

    __tablename__ = "storage_usage"
    __table_args__ = (UniqueConstraint("organization_id", "category"),)

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(32))
    bytes_used: Mapped[int] = mapped_column(Bytes, default=0)
    file_count: Mapped[int] = mapped_column(Integer, default=0)
    last_calculated: Mapped[datetime] = mapped_column(default=utcnow)
