"""Integrations: the outbound-call log, OAuth connections of any provider, freee and Google Drive sync.

``OutboundCall`` is seed 000's ``FreeeAuditLog`` generalized to every provider. ``Connection`` is
seed 000's ``FreeeConnection`` and seed 004's ``GoogleDriveIntegration`` made provider-neutral: other
domains (studio) use the same table for TikTok, Instagram and YouTube.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigId, JobRunMixin, OrgOwnedMixin, TimestampMixin, utcnow
from webapp.core.terms import N_
from webapp.extensions import Model
from webapp.jobs.lease import LeaseMixin
from webapp.secrets import EncryptedColumns, encrypted_fields

# What the sync pages show for a run's stored words (``label`` and ``translated`` look them up): its
# direction and kind, and the counters its job bumps ("partners_added" reads "partners added").
RUN_WORDS = (
    N_("Import"),
    N_("Export"),
    N_("Bidirectional"),
    N_("Full"),
    N_("Incremental"),
    N_("partners"),
    N_("invoices"),
    N_("deals"),
    N_("partners added"),
    N_("partners updated"),
    N_("partners failed"),
    N_("partners exported"),
    N_("partners skipped"),
    N_("invoices added"),
    N_("invoices updated"),
    N_("invoices failed"),
    N_("invoices exported"),
    N_("invoices skipped"),
    N_("deals added"),
    N_("deals updated"),
    N_("deals failed"),
    N_("scanned"),
    N_("added"),
    N_("updated"),
    N_("removed"),
)


class OutboundCall(Model):
    """On PostgreSQL partitioned by the month of ``created_at`` (``webapp/core/partitions.py``): the primary key
    there is ``(id, created_at)``; ids still come from one sequence."""

    __tablename__ = "outbound_calls"
    __table_args__ = (
        Index("ix_outbound_calls_org_id", "organization_id", "id"),
        Index("ix_outbound_calls_provider_id", "provider", "id"),
    )

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    organization_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="SET NULL"))
    provider: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(8))
    endpoint: Mapped[str] = mapped_column(String(500))
    status_code: Mapped[int | None] = mapped_column(Integer)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    provider_request_id: Mapped[str | None] = mapped_column(String(128))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    details: Mapped[dict] = mapped_column(default=dict)


if TYPE_CHECKING:
    _Tokens = EncryptedColumns
else:
    _Tokens = encrypted_fields("access_token", "refresh_token")


class Connection(TimestampMixin, OrgOwnedMixin, _Tokens, Model):
    """One OAuth2 connection of an organization to one account at one provider.

    ``created_by_id`` is the member who connected it. Tokens live only in the encrypted columns.
    A disconnected connection keeps its row (history, sync jobs); reconnecting the same account
    reuses it.
    """

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("organization_id", "provider", "account_id"),
        Index("ix_connections_status", "status"),
        Index("ix_connections_provider", "provider", "status"),
    )

    CONNECTED, DISCONNECTED, EXPIRED, ERROR = "CONNECTED", "DISCONNECTED", "EXPIRED", "ERROR"
    STATUSES = (CONNECTED, DISCONNECTED, EXPIRED, ERROR)
    FREQUENCIES = ("off", "hourly", "daily")

    provider: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str] = mapped_column(String(128))
    account_name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=CONNECTED)
    scopes: Mapped[str] = mapped_column(String(500), default="")
    token_expires_at: Mapped[datetime | None]
    refresh_expires_at: Mapped[datetime | None]
    connected_at: Mapped[datetime] = mapped_column(default=utcnow)
    disconnected_at: Mapped[datetime | None]
    last_refreshed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    last_sync_at: Mapped[datetime | None]
    # off / hourly / daily (Drive's "manual" is "off"): scheduled sync per connection.
    sync_frequency: Mapped[str] = mapped_column(String(16), default="off")
    # Provider-specific, never secret: quota, Drive changes page token, freee export settings…
    details: Mapped[dict] = mapped_column(default=dict)

    organization = relationship("Organization")
    connected_by = relationship("User", foreign_keys="Connection.created_by_id")

    @property
    def is_connected(self) -> bool:
        return self.status == self.CONNECTED

    def set_detail(self, key: str, value) -> None:
        self.details = {**(self.details or {}), key: value}


# ----------------------------------------------------------------------------- freee


class FreeeSyncJob(TimestampMixin, OrgOwnedMixin, LeaseMixin, JobRunMixin, Model):
    """Seed 000 ``FreeeSyncJob`` on the background-run pattern. ``counts`` holds per-entity results."""

    __tablename__ = "freee_sync_jobs"

    IMPORT, EXPORT, BIDIRECTIONAL = "IMPORT", "EXPORT", "BIDIRECTIONAL"
    DIRECTIONS = (IMPORT, EXPORT, BIDIRECTIONAL)
    ENTITIES = ("partners", "invoices", "deals")

    connection_id: Mapped[int] = mapped_column(BigId, ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    freee_company_id: Mapped[int] = mapped_column(BigInteger, index=True)
    direction: Mapped[str] = mapped_column(String(16), default=IMPORT)
    entity_types: Mapped[list] = mapped_column(default=list)
    full_sync: Mapped[bool] = mapped_column(Boolean, default=False)
    since_date: Mapped[date | None]
    trigger: Mapped[str] = mapped_column(String(16), default="manual")  # manual / scheduled / demo

    connection: Mapped[Connection] = relationship()


class FreeePartner(TimestampMixin, OrgOwnedMixin, Model):
    """A freee partner (取引先) mirrored locally, or a Tessera customer exported as one."""

    __tablename__ = "freee_partners"
    __table_args__ = (UniqueConstraint("connection_id", "freee_id"),)

    connection_id: Mapped[int] = mapped_column(BigId, ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    freee_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(255))
    code: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    freee_updated_at: Mapped[str | None] = mapped_column(String(32))
    # Set when the partner was created from a Tessera organization (export of customers).
    source_organization_id: Mapped[int | None] = mapped_column(BigId)


class FreeeDeal(TimestampMixin, OrgOwnedMixin, Model):
    __tablename__ = "freee_deals"
    __table_args__ = (UniqueConstraint("connection_id", "freee_id"),)

    connection_id: Mapped[int] = mapped_column(BigId, ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    freee_id: Mapped[int] = mapped_column(BigInteger)
    issue_date: Mapped[str | None] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(16), default="income")
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # yen (JPY has no minor unit)
    currency: Mapped[str] = mapped_column(String(3), default="JPY")
    partner_freee_id: Mapped[int | None] = mapped_column(BigInteger)
    ref_number: Mapped[str | None] = mapped_column(String(64))


class FreeeInvoice(TimestampMixin, OrgOwnedMixin, Model):
    """An invoice at freee (imported, or a Tessera invoice exported there: ``local_invoice_id``)."""

    __tablename__ = "freee_invoices"
    __table_args__ = (UniqueConstraint("connection_id", "freee_id"),)

    connection_id: Mapped[int] = mapped_column(BigId, ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    freee_id: Mapped[int] = mapped_column(BigInteger)
    invoice_number: Mapped[str | None] = mapped_column(String(64))
    billing_date: Mapped[str | None] = mapped_column(String(10))
    total_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="JPY")
    partner_freee_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str | None] = mapped_column(String(32))
    local_invoice_id: Mapped[int | None] = mapped_column(BigId, index=True)


class FreeeExport(OrgOwnedMixin, Model):
    """What Tessera has created at a freee company: one row per local record, so an export never
    creates it twice. ``entity_type`` is partner (an organization), invoice or deal (a Tessera invoice)."""

    __tablename__ = "freee_exports"
    __table_args__ = (UniqueConstraint("company_id", "entity_type", "local_id", name="uq_freee_exports_local"),)

    connection_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("connections.id", ondelete="SET NULL"), index=True
    )
    company_id: Mapped[int] = mapped_column(BigInteger)
    entity_type: Mapped[str] = mapped_column(String(16))
    local_id: Mapped[int] = mapped_column(BigId)
    freee_id: Mapped[int] = mapped_column(BigInteger)
    exported_at: Mapped[datetime] = mapped_column(default=utcnow)


# ----------------------------------------------------------------------------- Google Drive


class DriveFile(TimestampMixin, OrgOwnedMixin, Model):
    """Seed 004 ``DriveFile``: one file seen in a connected Drive."""

    __tablename__ = "drive_files"
    __table_args__ = (UniqueConstraint("connection_id", "drive_file_id"),)

    connection_id: Mapped[int] = mapped_column(BigId, ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    drive_file_id: Mapped[str] = mapped_column(String(128))
    file_name: Mapped[str] = mapped_column(String(500))
    mime_type: Mapped[str] = mapped_column(String(255))
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    web_view_link: Mapped[str | None] = mapped_column(String(1000))
    web_content_link: Mapped[str | None] = mapped_column(String(1000))  # download (not for Google Docs)
    thumbnail_link: Mapped[str | None] = mapped_column(String(1000))
    # Drive v3: public = a permission of type "anyone"; edit/share = capabilities.canEdit / canShare.
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    can_edit: Mapped[bool] = mapped_column(Boolean, default=False)
    can_share: Mapped[bool] = mapped_column(Boolean, default=False)
    synced_at: Mapped[datetime | None]
    # "Unlink": gone from Tessera's lists, kept in Drive; the row stays so a sync does not bring it back.
    unlinked_at: Mapped[datetime | None]
    # Seed 004 localPath / cacheExpiry: the content cached (a DRIVE_CACHE upload) while attached to a task.
    cache_upload_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("file_uploads.id", ondelete="SET NULL"))
    cache_expires_at: Mapped[datetime | None]
    drive_created_at: Mapped[datetime | None]
    drive_modified_at: Mapped[datetime | None]
    drive_parent_id: Mapped[str | None] = mapped_column(String(128))
    project_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("projects.id", ondelete="SET NULL"), index=True)
    task_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tasks.id", ondelete="SET NULL"), index=True)

    project = relationship("Project")
    task = relationship("Task")
    cache_upload = relationship("FileUpload")

    @property
    def is_folder(self) -> bool:
        return self.mime_type == "application/vnd.google-apps.folder"

    @property
    def is_google_native(self) -> bool:
        """Docs, Sheets, Slides…: no bytes to download (they would need an export)."""
        return self.mime_type.startswith("application/vnd.google-apps.")

    def cache_valid(self, now=None) -> bool:
        upload = self.cache_upload
        return (
            upload is not None
            and upload.deleted_at is None
            and self.cache_expires_at is not None
            and self.cache_expires_at > (now or utcnow())
        )


class DriveProjectFolder(TimestampMixin, OrgOwnedMixin, Model):
    """A Drive folder chosen for a project: synced beside the root folder, its files linked to the project."""

    __tablename__ = "drive_project_folders"
    __table_args__ = (UniqueConstraint("connection_id", "project_id"),)

    connection_id: Mapped[int] = mapped_column(BigId, ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    folder_id: Mapped[str] = mapped_column(String(128))
    folder_name: Mapped[str] = mapped_column(String(500))

    project = relationship("Project")


class DriveSyncLog(OrgOwnedMixin, LeaseMixin, JobRunMixin, Model):
    """Seed 004 ``DriveSyncLog``: full or incremental; files scanned/added/updated/removed in ``counts``."""

    __tablename__ = "drive_sync_logs"

    FULL, INCREMENTAL = "full", "incremental"

    connection_id: Mapped[int] = mapped_column(BigId, ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    sync_type: Mapped[str] = mapped_column(String(16), default=FULL)
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    connection: Mapped[Connection] = relationship()

    def count(self, key: str) -> int:
        return int((self.counts or {}).get(key, 0))
