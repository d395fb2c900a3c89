from flask import abort, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from webapp.auth.services import safe_next
from webapp.core.access import org_object_or_404, org_view, role_allows
from webapp.core.errors import DomainError
from webapp.core.htmx import render
from webapp.core.pagination import paginate
from webapp.core.parsing import int_or_none
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.files import bp
from webapp.files import services as files
from webapp.files.forms import UploadForm
from webapp.files.models import FILE_TYPES, FileUpload
from webapp.storage import storage


def _choices(org, form: UploadForm) -> UploadForm:
    """The projects and tasks an upload can go with (declared by the projects domain: ``ATTACHABLE``)."""
    for column, target in files.ATTACHABLE.items():
        rows = select(target.model).where(target.model.organization_id == org.id)
        if target.limit is not None:
            rows = rows.limit(target.limit)
        getattr(form, column).choices = [SelectChoice("", "—")] + [
            SelectChoice(str(row.id), target.label(row)) for row in db.session.scalars(rows)
        ]
    return form


def _page(org, form=None, status=200):
    kind = request.args.get("type")
    stmt = select(FileUpload).where(FileUpload.organization_id == org.id, FileUpload.deleted_at.is_(None))
    if kind in FILE_TYPES:
        stmt = stmt.where(FileUpload.file_type == kind)
    page = paginate(stmt.order_by(FileUpload.id.desc()), request.args.get("page", 1, type=int))
    links = {f.id: files.download_url(org, f) for f in page.items if f.downloadable}
    usage = files.usage_by_category(org)
    return render(
        "files/index.html",
        block="file_list",
        org=org,
        page=page,
        links=links,
        usage=usage,
        kind=kind,
        used=files.bytes_used(org),
        quota=files.quota_bytes(org),
        form=form or _choices(org, UploadForm()),
        types=FILE_TYPES,
        status=status,
    )


@bp.get("/")
@org_view("files")
def index(org):
    return _page(org)


def _optional(model, org, raw: str | None):
    object_id = int_or_none(raw)
    return org_object_or_404(model, org, object_id) if object_id is not None else None


@bp.post("/")
@org_view("files")
def upload(org):
    form = _choices(org, UploadForm())
    if not form.validate_on_submit():
        return _page(org, form, status=422)
    # project=, task=: each chosen row, another organization's answering 404
    targets = {
        column.removesuffix("_id"): _optional(target.model, org, getattr(form, column).data)
        for column, target in files.ATTACHABLE.items()
    }
    # retry=False: the upload's stream is read (and stored) once; a second run would store an empty file.
    return perform(
        lambda: files.upload_file(
            org,
            current_user.user,
            form.file.data.stream,
            form.file.data.filename,
            form.file_type.data,
            **targets,
            temporary=form.temporary.data,
        ),
        then=safe_next(request.form.get("next"), url_for("files.index", slug=org.slug)),
        success=lambda uploaded: _("%(name)s uploaded.", name=uploaded.original_name),
        form=form,
        field="file",
        failed=lambda _: _page(org, form, status=422),
        retry=False,
    )


@bp.post("/<int:file_id>/delete")
@org_view("files")
def delete(org, file_id):
    upload = org_object_or_404(FileUpload, org, file_id)
    if upload.created_by_id != current_user.id and not role_allows(request_role(), "owner"):
        abort(403)
    return perform(
        lambda: files.delete_file(upload, current_user.user),
        then=url_for("files.index", slug=org.slug),
        success=_("%(name)s deleted.", name=upload.original_name),
    )


def request_role() -> str:
    from flask import g

    return g.membership.role


@bp.get("/<int:file_id>/download")
@org_view("files")
def download(org, file_id):
    upload = org_object_or_404(FileUpload, org, file_id)
    try:
        files.check_download(org, upload, request.args.get("expires", ""), request.args.get("signature", ""))
    except DomainError as error:
        return render("errors/error.html", status=403, message=error.message)
    return send_file(
        # Flask only reads the stream; its types ask for an IO[bytes], which S3's body wrapper is not.
        storage().open(upload.storage_key),  # type: ignore[arg-type]
        mimetype=upload.mime_type,
        as_attachment=True,
        download_name=upload.original_name,
    )
