"""Templates marketplace (browse, preview, install with credentials) and AI drafts of workflows."""

from __future__ import annotations

import json

from flask import flash, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from webapp.core.access import org_view
from webapp.core.boundary import load_json
from webapp.core.htmx import redirect, render
from webapp.core.parsing import int_or_none
from webapp.core.transaction import perform
from webapp.extensions import db
from webapp.workflows import bp
from webapp.workflows import services as workflows
from webapp.workflows.definitions import validate_definition
from webapp.workflows.forms import DraftForm, SaveDraftForm
from webapp.workflows.models import WorkflowCredential, WorkflowTemplate
from webapp.workflows.routes import _credentials, _user
from webapp.workflows.steps import STEP_TYPES


def _published_or_404(template_id: int) -> WorkflowTemplate:
    template = db.session.get(WorkflowTemplate, template_id)
    if template is None or not template.published:
        from flask import abort

        abort(404)
    return template


@bp.get("/templates")
@org_view("workflows")
def templates(org):
    category = request.args.get("category") or None
    stmt = select(WorkflowTemplate).where(WorkflowTemplate.published.is_(True))
    if category:
        stmt = stmt.where(WorkflowTemplate.category == category)
    items = db.session.scalars(stmt.order_by(WorkflowTemplate.category, WorkflowTemplate.name)).all()
    categories = db.session.scalars(
        select(WorkflowTemplate.category).where(WorkflowTemplate.published.is_(True)).distinct()
    ).all()
    return render(
        "workflows/templates.html", org=org, templates=items, categories=sorted(categories), category=category
    )


# Templates are the marketplace's, not an organization's: their id travels as a parameter, and every
# organization may preview and install any published one.
@bp.route("/templates/preview", methods=["GET", "POST"])
@org_view("workflows")
def template_detail(org):
    template = _published_or_404(int_or_none(request.values.get("template")) or 0)

    def page(problem=None):
        return render(
            "workflows/template.html",
            org=org,
            entry=template,
            credentials=_credentials(org),
            step_types=STEP_TYPES,
            kinds=WorkflowCredential.KINDS,
            error=problem.message if problem else None,
            status=422 if problem else 200,
        )

    def installed(workflow):
        if workflow.missing_credentials:
            flash(gettext("Installed. Choose the credentials its steps need, then enable it."), "warning")
        else:
            flash(gettext("Installed. Review it, then enable it."), "success")
        return redirect(url_for("workflows.edit", slug=org.slug, workflow_id=workflow.id))

    if request.method != "POST":
        return page()
    chosen = {
        key: int_or_none(request.form.get(f"credential-{key}")) for key in template.definition.get("credentials", {})
    }
    choices = {key: credential_id for key, credential_id in chosen.items() if credential_id}
    return perform(lambda: workflows.install_template(template, org, _user(), choices), then=installed, failed=page)


@bp.route("/draft", methods=["GET", "POST"])
@org_view("workflows")
def draft(org):
    """Describe a workflow in words; the AI drafts it; the draft is validated before it is shown."""
    from webapp.ai.results import WORKFLOW_DRAFT, keep_result, kept_result
    from webapp.ai.services import draft_workflow

    form = DraftForm()

    def page(draft=None):
        save_form = SaveDraftForm(
            name=(draft or {}).get("name", ""), definition=json.dumps((draft or {}).get("definition", {}), indent=2)
        )
        return render(
            "workflows/draft.html",
            block="draft_result",
            org=org,
            form=form,
            draft=draft,
            save_form=save_form,
            step_types=STEP_TYPES,
            status=422 if form.errors or form.form_errors else 200,
        )

    if request.method == "GET":
        return page(kept_result(org, _user(), WORKFLOW_DRAFT, request.args.get("result")))
    if not form.validate_on_submit():
        return page()
    # A refused draft rolls back with the rest: no credit is charged for an answer that is not shown
    # (its reservation is refunded when the request ends). A retry after a lost race asks the AI once:
    # ask() hands the second attempt the answer the first one got, and charges it once. The draft is
    # kept and shown by a GET (post-redirect-get): a reload never asks the AI again.
    return perform(
        lambda: keep_result(org, _user(), WORKFLOW_DRAFT, draft_workflow(org, _user(), form.description.data)),
        then=lambda kept: redirect(url_for("workflows.draft", slug=org.slug, result=kept.id)),
        form=form,
        field="description",
        failed=lambda _: page(),
        retry=True,
    )


@bp.post("/draft/save")
@org_view("workflows")
def save_draft(org):
    form = SaveDraftForm()

    def page(_=None):
        return render(
            "workflows/draft.html",
            org=org,
            form=DraftForm(),
            draft=None,
            save_form=form,
            step_types=STEP_TYPES,
            status=422,
        )

    if not form.validate_on_submit():
        return page()
    try:
        definition = load_json(form.definition.data)
    except ValueError:
        form.definition.errors = [gettext("The definition is not valid JSON.")]
        return page()

    def save():
        validate_definition(definition)
        return workflows.create_from_definition(org, _user(), form.name.data, "Drafted with AI", definition)

    return perform(
        save,
        then=lambda workflow: redirect(url_for("workflows.edit", slug=org.slug, workflow_id=workflow.id)),
        success=gettext("Draft saved as a workflow. Review each step, then enable it."),
        form=form,
        field="definition",
        failed=page,
    )
