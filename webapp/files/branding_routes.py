"""The organization's logo page (owners and admins), and the authorized routes that serve avatars
and logos: another organization's picture answers 404, like any of its objects."""

from __future__ import annotations

import io

from flask import abort, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.core.access import org_view
from webapp.core.htmx import render
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.files import bp, branding, public_bp
from webapp.files.forms import ImageForm
from webapp.files.models import FileUpload
from webapp.storage import StorageError, storage

# The URL names the file, and a new picture is a new file: a browser may keep each one for a day.
CACHE_SECONDS = 86400


def _logo_page(org, form=None, status=200):
    return render("files/logo.html", org=org, form=form or ImageForm(), status=status)


@bp.get("/logo")
@org_view("branding")
def logo(org):
    return _logo_page(org)


@bp.post("/logo")
@org_view("branding")
def upload_logo(org):
    form = ImageForm()
    if not form.validate_on_submit():
        return _logo_page(org, form, status=422)
    return perform(
        lambda: branding.set_logo(org, current_user.user, form.file.data.stream, form.crop()),
        then=url_for("files.logo", slug=org.slug),
        success=_("Logo saved. It shows in the organization switcher and on invoices."),
        form=form,
        field="file",
        failed=lambda _: _logo_page(org, form, status=422),
        retry=False,  # the upload's stream is read once
    )


@bp.post("/logo/remove")
@org_view("branding")
def remove_logo(org):
    return perform(
        lambda: branding.remove_logo(org, current_user.user),
        then=url_for("files.logo", slug=org.slug),
        success=_("Logo removed."),
    )


def _send_picture(file_id: int):
    upload = db.session.get(FileUpload, file_id)
    if upload is None or not upload.downloadable:
        abort(404)
    try:
        with storage().open(upload.storage_key) as fh:
            data = fh.read()  # a 256 px PNG: small, and the file is closed before the answer leaves
    except StorageError:
        abort(404)
    response = send_file(
        io.BytesIO(data), mimetype=upload.mime_type, etag=upload.checksum_md5 or False, conditional=True
    )
    response.cache_control.private = True
    response.cache_control.max_age = CACHE_SECONDS
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@public_bp.get("/pictures/users/<int:user_id>/<int:file_id>.png")
@login_required
def user_avatar(user_id, file_id):
    from webapp.auth.models import User

    user = db.session.get(User, user_id)
    if user is None or user.avatar_file_id != file_id or not branding.may_see_user(current_user, user_id):
        abort(404)
    return _send_picture(file_id)


@public_bp.get("/pictures/orgs/<int:org_id>/<int:file_id>.png")
@login_required
def org_logo(org_id, file_id):
    from webapp.orgs.models import Organization

    org = db.session.get(Organization, org_id)
    if org is None or org.logo_file_id != file_id or not branding.may_see_org(current_user, org_id):
        abort(404)
    return _send_picture(file_id)


def picture_url(obj) -> str | None:
    """The served URL of a user's avatar or an organization's logo, or None (initials instead)."""
    if getattr(obj, "logo_file_id", None):
        return url_for("branding.org_logo", org_id=obj.id, file_id=obj.logo_file_id)
    if getattr(obj, "avatar_file_id", None):
        user_id = obj.user.id if hasattr(obj, "session") else obj.id  # the signed-in SessionUser or a User
        return url_for("branding.user_avatar", user_id=user_id, file_id=obj.avatar_file_id)
    return None


def avatar(obj, size: int = 28, css: str = ""):
    """An <img> of the picture, or the initials in a circle when there is none (templates: ``avatar(user)``)."""
    from markupsafe import Markup, escape

    classes = f"avatar {css}".strip()
    url = picture_url(obj)
    if url:
        return Markup(
            f'<img class="{escape(classes)}" src="{escape(url)}" alt="" width="{size}" height="{size}" loading="lazy">'
        )
    # The initials are drawn by the stylesheet from the attribute: decoration, not part of the text
    # around them (a switcher reads "Acme Farms", not "AF Acme Farms").
    return Markup(
        f'<span class="{escape(classes)} avatar-initials" aria-hidden="true" '
        f'data-size="{size}" data-initials="{escape(getattr(obj, "initials", "?"))}"></span>'
    )


def document_logo(org, inline: bool = False):
    """The logo at the top of an invoice: the served URL for members and staff, the picture itself
    (a data: URI) on the public payment page, whose visitor may not be signed in."""
    import base64

    from markupsafe import Markup, escape

    if not getattr(org, "logo_file_id", None):
        return Markup("")
    src: str | None
    if inline:
        png = branding.logo_bytes(org)
        if png is None:
            return Markup("")
        src = "data:image/png;base64," + base64.b64encode(png).decode()
    else:
        src = picture_url(org)
    return Markup(
        f'<img class="invoice-logo" src="{escape(src)}" alt="{escape(org.name)} logo" width="64" height="64">'
    )
