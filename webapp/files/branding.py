"""Avatars (seed 004 ``USER_AVATAR``) and organization logos (``WORKSPACE_LOGO``): stored as files
like any other, so they count in the organization's storage (a user's avatar in their personal
organization's), and are served only to those allowed to see them."""

from __future__ import annotations

import hashlib
import io
import uuid

from sqlalchemy import select

from webapp.audit import record
from webapp.core.access import OWNER
from webapp.core.errors import DomainError
from webapp.core.terms import N_
from webapp.extensions import db
from webapp.files.images import Crop, square_png
from webapp.files.models import FileUpload
from webapp.files.services import _adjust_usage, check_quota, delete_file
from webapp.settings import define, get
from webapp.storage import StorageError, storage

define("files.image_max_mb", int, 10, "Largest avatar or logo upload, in MB (before it is resized)", minimum=1)

MIB = 1024 * 1024


def personal_organization(user):
    from webapp.orgs.models import Membership, Organization

    return db.session.scalar(
        select(Organization)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(
            Membership.user_id == user.id,
            Membership.role == OWNER,
            Organization.is_personal.is_(True),
            Organization.deleted_at.is_(None),
        )
        .order_by(Organization.id)
        .limit(1)
    )


def _read_upload(stream) -> bytes:
    limit = get("files.image_max_mb") * MIB
    data = stream.read(limit + 1) if stream is not None else b""
    if not data:
        raise DomainError(N_("Choose a picture to upload."), field="file")
    if len(data) > limit:
        raise DomainError(f"The picture is over {limit // MIB} MB.", field="file", code="file_too_large")
    return data


def _store_png(org, user, png: bytes, name: str, file_type: str) -> FileUpload:
    check_quota(org, len(png))
    upload = FileUpload(
        organization_id=org.id,
        created_by_id=user.id,
        original_name=name,
        storage_key="",
        size=len(png),
        mime_type="image/png",
        file_type=file_type,
        status=FileUpload.UPLOADING,
    )
    db.session.add(upload)
    db.session.flush()
    upload.storage_key = f"files/{org.id}/{upload.id}/{uuid.uuid4().hex}.png"
    try:
        upload.size = storage().save(upload.storage_key, io.BytesIO(png), content_type="image/png")
    except StorageError as error:
        raise DomainError(f"The picture could not be stored ({error}); try again.", field="file") from None
    upload.checksum_md5 = hashlib.md5(png, usedforsecurity=False).hexdigest()
    upload.status = FileUpload.COMPLETED
    upload.scan_result = N_("re-encoded from its decoded pixels: none of the uploaded bytes are kept")
    _adjust_usage(org.id, upload.category, upload.size, 1)
    return upload


def _drop(file_id: int | None, actor) -> None:
    old = db.session.get(FileUpload, file_id) if file_id else None
    if old is not None and old.deleted_at is None:
        delete_file(old, actor)


def set_avatar(user, stream, crop: Crop | None = None) -> FileUpload:
    org = personal_organization(user)
    if org is None:
        raise DomainError(N_("Your account has no personal organization to keep the picture in."), field="file")
    png = square_png(_read_upload(stream), crop)
    db.session.refresh(user, with_for_update=True)  # two uploads at once: one avatar, the other's file dropped
    upload = _store_png(org, user, png, "avatar.png", "USER_AVATAR")
    previous = user.avatar_file_id
    user.avatar_file_id = upload.id
    _drop(previous, user)
    record(user, "user.avatar_changed", user, {"file_id": upload.id, "replaced": previous}, org=org)
    return upload


def remove_avatar(user) -> None:
    db.session.refresh(user, with_for_update=True)
    if user.avatar_file_id is None:
        raise DomainError(N_("You have no picture to remove."), code="no_avatar")
    previous, user.avatar_file_id = user.avatar_file_id, None
    _drop(previous, user)
    record(user, "user.avatar_removed", user, {"file_id": previous})


def set_logo(org, actor, stream, crop: Crop | None = None) -> FileUpload:
    png = square_png(_read_upload(stream), crop)
    db.session.refresh(org, with_for_update=True)
    upload = _store_png(org, actor, png, "logo.png", "WORKSPACE_LOGO")
    previous = org.logo_file_id
    org.logo_file_id = upload.id
    _drop(previous, actor)
    record(actor, "organization.logo_changed", org, {"file_id": upload.id, "replaced": previous})
    return upload


def remove_logo(org, actor) -> None:
    db.session.refresh(org, with_for_update=True)
    if org.logo_file_id is None:
        raise DomainError(N_("This organization has no logo to remove."), code="no_logo")
    previous, org.logo_file_id = org.logo_file_id, None
    _drop(previous, actor)
    record(actor, "organization.logo_removed", org, {"file_id": previous})


def logo_bytes(org) -> bytes | None:
    """The logo's PNG for documents (the invoice PDF), or None."""
    upload = db.session.get(FileUpload, org.logo_file_id) if org.logo_file_id else None
    if upload is None or not upload.downloadable:
        return None
    try:
        with storage().open(upload.storage_key) as fh:
            return fh.read()
    except StorageError:
        return None


def may_see_user(viewer, user_id: int) -> bool:
    """The user themselves, staff, or anyone sharing an organization with them."""
    from sqlalchemy.orm import aliased

    from webapp.orgs.models import Membership

    if viewer.id == user_id or viewer.is_staff:
        return True
    mine, theirs = aliased(Membership), aliased(Membership)
    shared = (
        select(mine.id)
        .join(theirs, theirs.organization_id == mine.organization_id)
        .where(mine.user_id == viewer.id, theirs.user_id == user_id)
        .limit(1)
    )
    return db.session.scalar(shared) is not None


def may_see_org(viewer, org_id: int) -> bool:
    from webapp.orgs.models import Membership

    if viewer.is_staff:
        return True
    member = select(Membership.id).where(Membership.organization_id == org_id, Membership.user_id == viewer.id)
    return db.session.scalar(member) is not None
