"""Document analysis (/o/<slug>/ai/documents): upload a file or pick one of the organization's files
or synced Drive files, read its summary, key dates and amounts, and turn its tasks into a proposal
for a chosen project."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from webapp.ai import bp, credits
from webapp.ai import documents as docs
from webapp.ai import projects as ai_projects
from webapp.ai.forms import DocumentForm, TasksFromDocumentForm
from webapp.ai.models import AiReport
from webapp.core.access import can, org_object_or_404, org_view
from webapp.core.errors import DomainError
from webapp.core.htmx import redirect, render
from webapp.core.parsing import int_or_none
from webapp.core.terms import N_
from webapp.core.transaction import perform
from webapp.extensions import db

READABLE_TYPES = ("text/", "application/pdf", "application/json", "application/vnd.google-apps.document")


def _document_form(org) -> DocumentForm:
    from webapp.files.models import FileUpload
    from webapp.integrations.models import DriveFile

    form = DocumentForm()
    uploads = db.session.scalars(
        select(FileUpload)
        .where(
            FileUpload.organization_id == org.id,
            FileUpload.status == FileUpload.COMPLETED,
            FileUpload.deleted_at.is_(None),
        )
        .order_by(FileUpload.id.desc())
        .limit(200)
    ).all()
    drive = db.session.scalars(
        select(DriveFile).where(DriveFile.organization_id == org.id).order_by(DriveFile.file_name).limit(500)
    ).all()
    form.upload_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(u.id), u.original_name) for u in uploads if u.mime_type.startswith(READABLE_TYPES)
    ]
    form.drive_file_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(f.id), f.file_name) for f in drive if f.mime_type.startswith(READABLE_TYPES)
    ]
    return form


def _documents_page(org, form, status=200):
    reports = db.session.scalars(
        select(AiReport)
        .where(AiReport.organization_id == org.id, AiReport.kind == AiReport.DOCUMENT)
        .order_by(AiReport.id.desc())
        .limit(20)
    ).all()
    return render(
        "ai/documents.html", org=org, form=form, reports=reports, balance=credits.balance_of(org), status=status
    )


def _chosen_document(org, form) -> docs.DocumentText:
    from webapp.files.models import FileUpload
    from webapp.integrations.models import DriveFile

    uploaded = request.files.get("document")
    if uploaded is not None and uploaded.filename:
        with uploaded.stream:  # a large upload is spooled to a temporary file: let it go now
            return docs.read_document(uploaded.filename, uploaded.stream)
    upload_id, drive_id = int_or_none(form.upload_id.data), int_or_none(form.drive_file_id.data)
    if upload_id:
        upload = db.session.scalar(
            select(FileUpload).where(FileUpload.id == upload_id, FileUpload.organization_id == org.id)
        )
        if upload is None:
            raise DomainError(N_("Choose one of your files."), field="upload_id")
        return docs.read_file_upload(upload)
    if drive_id:
        drive_file = db.session.scalar(
            select(DriveFile).where(DriveFile.id == drive_id, DriveFile.organization_id == org.id)
        )
        if drive_file is None:
            raise DomainError(N_("Choose one of your Google Drive files."), field="drive_file_id")
        return docs.read_drive_file(drive_file)
    raise DomainError(N_("Upload a file or choose one."), field="document")


@bp.get("/documents")
@org_view("ai")
def documents(org):
    return _documents_page(org, _document_form(org))


@bp.post("/documents")
@org_view("ai")
def analyse_document(org):
    form = _document_form(org)
    if not form.validate_on_submit():
        return _documents_page(org, form, status=422)
    return perform(
        lambda: docs.analyse_document(org, current_user.user, _chosen_document(org, form)),
        then=lambda report: redirect(url_for("ai.document", slug=org.slug, report_id=report.id)),
        form=form,
        field="document",
        failed=lambda _: _documents_page(org, form, status=422),
    )


def _report(org, report_id) -> AiReport:
    report = org_object_or_404(AiReport, org, report_id)
    if report.kind != AiReport.DOCUMENT:
        abort(404)
    return report


def _tasks_form(org) -> TasksFromDocumentForm:
    from webapp.projects.services import projects_of

    form = TasksFromDocumentForm()
    form.project_id.choices = [SelectChoice(str(p.id), p.name) for p in projects_of(org)]
    return form


def _document_page(org, report, form=None, status=200):
    return render(
        "ai/document.html",
        org=org,
        report=report,
        tasks_form=form or _tasks_form(org),
        status=status,
    )


@bp.get("/documents/<int:report_id>")
@org_view("ai")
def document(org, report_id):
    return _document_page(org, _report(org, report_id))


@bp.post("/documents/<int:report_id>/tasks")
@org_view("ai")
def tasks_from_document(org, report_id):
    from webapp.projects.models import Project

    report = _report(org, report_id)
    if not can("projects"):
        abort(403)
    form = _tasks_form(org)
    if not form.validate_on_submit():
        return _document_page(org, report, form, status=422)
    project = db.session.scalar(
        select(Project).where(Project.id == (int_or_none(form.project_id.data) or 0), Project.organization_id == org.id)
    )

    def propose():
        if project is None:
            raise DomainError(N_("Choose one of your projects."), field="project_id")
        return ai_projects.proposal_from_report(org, report, project, current_user.user)

    return perform(
        propose,
        then=lambda proposal: redirect(url_for("ai.proposal", slug=org.slug, proposal_id=proposal.id)),
        form=form,
        field="project_id",
        failed=lambda _: _document_page(org, report, form, status=422),
    )
