"""Staff pages: publish workflow templates, approve invoice lines proposed by workflows."""

from __future__ import annotations

import json

from flask import url_for
from flask_login import current_user
from sqlalchemy import select

from webapp.core.boundary import load_json
from webapp.core.forms import EmptyForm
from webapp.core.htmx import render
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.workflows import admin_bp
from webapp.workflows import services as workflows
from webapp.workflows.forms import TemplateForm
from webapp.workflows.models import PendingInvoiceLine, WorkflowTemplate


@admin_bp.get("/workflow-templates")
def templates():
    items = db.session.scalars(select(WorkflowTemplate).order_by(WorkflowTemplate.category, WorkflowTemplate.name))
    return render("workflows/admin_templates.html", templates=list(items))


@admin_bp.route("/workflow-templates/new", methods=["GET", "POST"])
@admin_bp.route("/workflow-templates/<int:template_id>", methods=["GET", "POST"])
def template_form(template_id: int | None = None):
    template = db.get_or_404(WorkflowTemplate, template_id) if template_id else None
    form = TemplateForm(obj=template)
    if template is not None and not form.is_submitted():
        form.definition.data = json.dumps(template.definition, indent=2)

    def page(_=None):
        status = 422 if form.errors or form.form_errors else 200
        return render("workflows/admin_template_form.html", form=form, entry=template, status=status)

    if not form.validate_on_submit():
        return page()
    try:
        definition = load_json(form.definition.data)
    except ValueError as error:
        form.definition.errors = [f"Not valid JSON: {error}"]
        return page()
    return perform(
        lambda: workflows.save_template(
            template,
            current_user.user,
            name=form.name.data,
            slug=form.slug.data,
            category=form.category.data,
            description=form.description.data or "",
            definition=definition,
            published=form.published.data,
        ),
        then=url_for("workflows_admin.templates"),
        success="Template saved.",
        form=form,
        field="definition",
        failed=page,
    )


@admin_bp.get("/workflow-lines")
def lines():
    pending = db.session.scalars(
        select(PendingInvoiceLine).where(PendingInvoiceLine.status == "PENDING").order_by(PendingInvoiceLine.id)
    ).all()
    decided = db.session.scalars(
        select(PendingInvoiceLine)
        .where(PendingInvoiceLine.status != "PENDING")
        .order_by(PendingInvoiceLine.id.desc())
        .limit(50)
    ).all()
    return render("workflows/admin_lines.html", pending=pending, decided=decided, button=EmptyForm())


@admin_bp.post("/workflow-lines/<int:line_id>/<any(approve, reject):decision>")
def decide_line(line_id: int, decision: str):
    line = db.get_or_404(PendingInvoiceLine, line_id)
    return perform(
        lambda: workflows.decide_invoice_line(line, current_user.user, decision == "approve"),
        then=url_for("workflows_admin.lines"),
        success=f"Line {'approved' if decision == 'approve' else 'rejected'}.",
    )
