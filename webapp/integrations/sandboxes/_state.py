"""State of the built-in provider sandboxes, in ``sandbox_<provider>_*`` tables of the sandbox
process's own database (``SANDBOX_DATABASE_URL``), never in the product's schema.

The sandboxes are the outside party, so they keep their own tables: issued codes and tokens (only
their SHA-256, so no token is ever stored in clear anywhere in the database), seeded data, and
faults that tests and the demo switch on (``429`` with ``Retry-After``, ``5xx``). Every sandbox
model derives from ``SandboxModel``: its own metadata, created by the sandbox app at start, so the
product's models, migrations and schema never see these tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Integer, LargeBinary, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

from webapp.core.models import NAMING, BigId, UTCDateTime, utcnow


class SandboxModel(DeclarativeBase):
    """Base of every sandbox table; queried through ``webapp.extensions.db.session``, which in the
    sandbox process is bound to the sandbox database."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING),
        type_annotation_map={datetime: UTCDateTime(), dict: JSON, list: JSON, bytes: LargeBinary},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)


class SandboxTokenMixin:
    kind: Mapped[str] = mapped_column(String(8))  # code / access / refresh
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grant: Mapped[str] = mapped_column(String(32), index=True)  # one consent; its tokens revoke together
    client_id: Mapped[str] = mapped_column(String(128))
    account: Mapped[str] = mapped_column(String(128))  # freee company id / Google account e-mail
    scope: Mapped[str] = mapped_column(String(500), default="")
    redirect_uri: Mapped[str | None] = mapped_column(String(500))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SandboxFaultMixin:
    """``times`` answers of ``status`` for requests whose path starts with ``path``."""

    path: Mapped[str] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(Integer)
    times: Mapped[int] = mapped_column(Integer, default=1)
    retry_after: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SandboxFreeeToken(SandboxTokenMixin, SandboxModel):
    __tablename__ = "sandbox_freee_tokens"


class SandboxFreeeFault(SandboxFaultMixin, SandboxModel):
    __tablename__ = "sandbox_freee_faults"


class SandboxFreeeCompany(SandboxModel):
    __tablename__ = "sandbox_freee_companies"

    company_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))


class SandboxFreeeRecord(SandboxModel):
    """Partners, deals and invoices of a sandbox company (``kind``), as the JSON freee answers."""

    __tablename__ = "sandbox_freee_records"

    kind: Mapped[str] = mapped_column(String(16), index=True)
    company_id: Mapped[int] = mapped_column(BigInteger, index=True)
    code: Mapped[str | None] = mapped_column(String(64))
    sort_date: Mapped[str] = mapped_column(String(10), default="")  # issue or billing date
    updated: Mapped[str] = mapped_column(String(32), default="")
    body: Mapped[dict] = mapped_column(default=dict)


class SandboxGoogleDriveToken(SandboxTokenMixin, SandboxModel):
    __tablename__ = "sandbox_google_drive_tokens"


class SandboxGoogleDriveFault(SandboxFaultMixin, SandboxModel):
    __tablename__ = "sandbox_google_drive_faults"


class SandboxGoogleDriveFile(SandboxModel):
    """A file in a sandbox account's Drive; ``change_seq`` orders the changes feed."""

    __tablename__ = "sandbox_google_drive_files"

    account: Mapped[str] = mapped_column(String(128), index=True)
    file_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    mime_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int | None] = mapped_column(BigInteger)
    parent_id: Mapped[str | None] = mapped_column(String(64))
    created_time: Mapped[datetime] = mapped_column(default=utcnow)
    modified_time: Mapped[datetime] = mapped_column(default=utcnow)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)
    description: Mapped[str | None] = mapped_column(Text)
    trashed: Mapped[bool] = mapped_column(Boolean, default=False)  # in the Drive trash (removed = deleted for good)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)  # an "anyone with the link" permission
    can_edit: Mapped[bool] = mapped_column(Boolean, default=True)
    can_share: Mapped[bool] = mapped_column(Boolean, default=True)
    content: Mapped[bytes | None]  # None: generated from the name, ``size`` bytes long
