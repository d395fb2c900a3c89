"""Workflow pages: list, editor (HTMX), runs with a live log, credentials, marketplace, AI drafts."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.core.access import org_object_or_404, org_view
from webapp.core.display import translated
from webapp.core.forms import EmptyForm
from webapp.core.htmx import redirect, render
from webapp.core.pagination import page_arg, paginate
from webapp.core.transaction import flash_then, perform
from webapp.extensions import db
from webapp.workflows import bp
from webapp.workflows import execution as runs
from webapp.workflows import services as workflows
from webapp.workflows.forms import AddStepForm, CredentialForm, ReplaceSecretForm, WorkflowForm
from webapp.workflows.models import (
    CredentialUsage,
    Workflow,
    WorkflowCredential,
    WorkflowRun,
    WorkflowStep,
)
from webapp.workflows.steps import STEP_TYPES, choices, opts


def _user():
    return current_user.user if hasattr(current_user, "user") else current_user


def _credentials(org) -> list[WorkflowCredential]:
    return list(
        db.session.scalars(
            select(WorkflowCredential)
            .where(WorkflowCredential.organization_id == org.id, WorkflowCredential.revoked_at.is_(None))
            .order_by(WorkflowCredential.name)
        )
    )


def step_form(step: WorkflowStep, credentials, formdata=None):
    kind = STEP_TYPES[step.type]
    data = dict(step.config or {})
    data["credential_id"] = step.credential_id or 0
    form = kind.make_form(data, formdata=formdata, prefix=f"s{step.id}-")
    if "credential_id" in form._fields:
        form.credential_id.choices = opts(
            [(0, "— none —")]
            + [(c.id, f"{c.name} · {translated(c.kind_label)}") for c in credentials if c.kind in kind.credential_kinds]
        )
    return form


def _editor(org, workflow, *, settings_form=None, failed_step=None, status=200):
    credentials = _credentials(org)
    forms = {s.id: step_form(s, credentials) for s in workflow.steps}
    if failed_step is not None:
        forms[failed_step[0]] = failed_step[1]
    add_form = AddStepForm()
    add_form.type.choices = choices()
    if settings_form is None:
        settings_form = WorkflowForm(
            obj=workflow, cron=workflow.trigger_config.get("cron", ""), event=workflow.trigger_config.get("event", "")
        )
    recent = db.session.scalars(
        select(WorkflowRun).where(WorkflowRun.workflow_id == workflow.id).order_by(WorkflowRun.id.desc()).limit(10)
    ).all()
    secret = workflows.webhook_secret(workflow) if workflow.trigger_type == "webhook" else None
    from webapp.ai.models import AiReport
    from webapp.ai.projects import latest_report

    return render(
        "workflows/edit.html",
        block="steps",
        org=org,
        workflow=workflow,
        forms=forms,
        add_form=add_form,
        settings_form=settings_form,
        step_types=STEP_TYPES,
        recent=recent,
        webhook_secret=secret,
        button=EmptyForm(),
        review_report=latest_report(org, AiReport.WORKFLOW, workflow.id),
        status=status,
    )


# --- list and lifecycle ---------------------------------------------------------------------------


@bp.get("/")
@org_view("workflows")
def index(org):
    items = db.session.scalars(
        select(Workflow)
        .where(Workflow.organization_id == org.id)
        .options(selectinload(Workflow.steps))
        .order_by(Workflow.name)
    ).all()
    return render("workflows/index.html", org=org, workflows=items, button=EmptyForm())


@bp.route("/new", methods=["GET", "POST"])
@org_view("workflows")
def new(org):
    form = WorkflowForm()
    if not form.validate_on_submit():
        return render("workflows/new.html", org=org, form=form, status=422 if form.errors else 200)
    return perform(
        lambda: workflows.create_workflow(
            org, _user(), form.name.data, form.description.data, form.trigger_type.data, form.trigger_config()
        ),
        then=lambda workflow: redirect(url_for("workflows.edit", slug=org.slug, workflow_id=workflow.id)),
        success=gettext("Workflow created. Add its steps."),
        form=form,
        failed=lambda _: render("workflows/new.html", org=org, form=form, status=422),
    )


@bp.get("/<int:workflow_id>")
@org_view("workflows")
def edit(org, workflow_id):
    return _editor(org, org_object_or_404(Workflow, org, workflow_id))


@bp.post("/<int:workflow_id>/settings")
@org_view("workflows")
def save_settings(org, workflow_id):
    workflow = org_object_or_404(Workflow, org, workflow_id)
    form = WorkflowForm()
    if not form.validate_on_submit():
        return _editor(org, workflow, settings_form=form, status=422)
    return perform(
        lambda: workflows.update_workflow(
            workflow,
            org,
            _user(),
            name=form.name.data,
            description=form.description.data,
            trigger_type=form.trigger_type.data,
            trigger_config=form.trigger_config(),
            max_concurrency=form.max_concurrency.data or 1,
        ),
        then=url_for("workflows.edit", slug=org.slug, workflow_id=workflow.id),
        success=gettext("Saved."),
        form=form,
        failed=lambda _: _editor(org, workflow, settings_form=form, status=422),
    )


def _back_to_list(org) -> str:
    """Where the list's buttons came from (the list or the editor), never another site."""
    referrer = request.referrer or ""
    if urlsplit(referrer).netloc == request.host and urlsplit(referrer).path.startswith(f"/o/{org.slug}/workflows"):
        return referrer
    return url_for("workflows.index", slug=org.slug)


@bp.post("/<int:workflow_id>/enable")
@org_view("workflows")
def enable(org, workflow_id):
    workflow = org_object_or_404(Workflow, org, workflow_id)
    return perform(
        lambda: workflows.set_enabled(workflow, org, _user(), True),
        then=_back_to_list(org),
        success=gettext("%(name)s is on.", name=workflow.name),
    )


@bp.post("/<int:workflow_id>/disable")
@org_view("workflows")
def disable(org, workflow_id):
    workflow = org_object_or_404(Workflow, org, workflow_id)
    return perform(
        lambda: workflows.set_enabled(workflow, org, _user(), False),
        then=_back_to_list(org),
        success=gettext("%(name)s is off.", name=workflow.name),
    )


@bp.post("/<int:workflow_id>/duplicate")
@org_view("workflows")
def duplicate(org, workflow_id):
    workflow = org_object_or_404(Workflow, org, workflow_id)
    return perform(
        lambda: workflows.duplicate_workflow(workflow, org, _user()),
        then=lambda copy: redirect(url_for("workflows.edit", slug=org.slug, workflow_id=copy.id)),
        success=gettext("Duplicated (disabled until you enable it)."),
        failed=url_for("workflows.index", slug=org.slug),
    )


@bp.post("/<int:workflow_id>/delete")
@org_view("workflows")
def delete(org, workflow_id):
    workflow = org_object_or_404(Workflow, org, workflow_id)
    return perform(
        lambda: workflows.delete_workflow(workflow, _user()),
        then=url_for("workflows.index", slug=org.slug),
        success=gettext("Workflow deleted."),
    )


@bp.post("/<int:workflow_id>/rotate-secret")
@org_view("workflows")
def rotate_secret(org, workflow_id):
    workflow = org_object_or_404(Workflow, org, workflow_id)
    return perform(
        lambda: workflows.rotate_webhook_secret(workflow, _user()),
        then=url_for("workflows.edit", slug=org.slug, workflow_id=workflow_id),
        success=gettext("New webhook address made; the old one no longer works."),
    )


@bp.post("/<int:workflow_id>/run")
@org_view("workflows")
def run_now(org, workflow_id):
    workflow = org_object_or_404(Workflow, org, workflow_id)
    editor_url = url_for("workflows.edit", slug=org.slug, workflow_id=workflow.id)
    if not workflow.steps or workflow.missing_credentials:
        flash(gettext("Add steps and choose their credentials before running."), "error")
        return redirect(editor_url)
    return perform(
        lambda: runs.start_run(workflow, "manual", {"started_by": _user().email}, actor=_user()),
        then=lambda run: redirect(url_for("workflows.run_detail", slug=org.slug, run_id=run.id)),
        failed=editor_url,
    )


# --- steps (HTMX editor) --------------------------------------------------------------------------


def _step(org, workflow_id, step_id) -> tuple[Workflow, WorkflowStep]:
    workflow = org_object_or_404(Workflow, org, workflow_id)
    step = next((s for s in workflow.steps if s.id == step_id), None)
    if step is None:
        abort(404)
    return workflow, step


def _back(org, workflow):
    if request.headers.get("HX-Request") == "true":
        return _editor(org, workflow)
    return redirect(url_for("workflows.edit", slug=org.slug, workflow_id=workflow.id))


@bp.post("/<int:workflow_id>/steps")
@org_view("workflows")
def add_step(org, workflow_id):
    workflow = org_object_or_404(Workflow, org, workflow_id)
    return perform(
        lambda: workflows.add_step(workflow, _user(), request.form.get("type", "")),
        then=lambda _: _back(org, workflow),
        failed=flash_then(lambda: _back(org, workflow)),
    )


@bp.post("/<int:workflow_id>/steps/<int:step_id>")
@org_view("workflows")
def save_step(org, workflow_id, step_id):
    workflow, step = _step(org, workflow_id, step_id)
    form = step_form(step, _credentials(org), formdata=request.form)
    if not form.validate():
        return _editor(org, workflow, failed_step=(step.id, form), status=422)
    return perform(
        lambda: workflows.save_step(step, _user(), form, request.form.get(f"s{step.id}-step_name")),
        then=lambda _: _back(org, workflow),
        success=lambda _: gettext("Step %(number)s saved.", number=step.position),
        form=form,
        failed=lambda _: _editor(org, workflow, failed_step=(step.id, form), status=422),
    )


@bp.post("/<int:workflow_id>/steps/<int:step_id>/move")
@org_view("workflows")
def move_step(org, workflow_id, step_id):
    workflow, step = _step(org, workflow_id, step_id)
    direction = "up" if request.form.get("direction") == "up" else "down"
    return perform(
        lambda: workflows.move_step(step, _user(), direction),
        then=lambda _: _back(org, workflow),
        failed=flash_then(lambda: _back(org, workflow)),
    )


@bp.post("/<int:workflow_id>/steps/<int:step_id>/delete")
@org_view("workflows")
def remove_step(org, workflow_id, step_id):
    workflow, step = _step(org, workflow_id, step_id)
    return perform(
        lambda: workflows.remove_step(step, _user()),
        then=lambda _: _back(org, workflow),
        failed=flash_then(lambda: _back(org, workflow)),
    )


# --- runs -----------------------------------------------------------------------------------------


@bp.get("/<int:workflow_id>/runs")
@org_view("workflows")
def run_list(org, workflow_id):
    workflow = org_object_or_404(Workflow, org, workflow_id)
    page = paginate(
        select(WorkflowRun).where(WorkflowRun.workflow_id == workflow.id).order_by(WorkflowRun.id.desc()),
        page_arg(request.args.get("page")),
    )
    return render("workflows/runs.html", org=org, workflow=workflow, page=page)


@bp.get("/runs/<int:run_id>")
@org_view("workflows")
def run_detail(org, run_id):
    run = org_object_or_404(WorkflowRun, org, run_id)
    return render("workflows/run.html", block="runlog", org=org, run=run, step_types=STEP_TYPES, button=EmptyForm())


@bp.post("/runs/<int:run_id>/retry")
@org_view("workflows")
def retry(org, run_id):
    run = org_object_or_404(WorkflowRun, org, run_id)
    return perform(
        lambda: runs.retry_run(run, _user()),
        then=url_for("workflows.run_detail", slug=org.slug, run_id=run.id),
        success=gettext("Retrying from the failed step."),
    )


@bp.post("/runs/<int:run_id>/cancel")
@org_view("workflows")
def cancel(org, run_id):
    run = org_object_or_404(WorkflowRun, org, run_id)
    return perform(
        lambda: runs.cancel_run(run, _user()),
        then=url_for("workflows.run_detail", slug=org.slug, run_id=run.id),
        success=gettext("Run cancelled."),
    )


# --- credentials ----------------------------------------------------------------------------------


def _credentials_page(org, form=None, status=200):
    return render(
        "workflows/credentials.html",
        org=org,
        credentials=_credentials(org),
        form=form or CredentialForm(),
        button=EmptyForm(),
        status=status,
    )


@bp.get("/credentials")
@org_view("workflows")
def credentials(org):
    return _credentials_page(org)


@bp.post("/credentials")
@org_view("workflows")
def create_credential(org):
    form = CredentialForm()

    def page(_=None):
        form.secret.data = ""  # never echo a secret back into the page
        return _credentials_page(org, form, status=422)

    if not form.validate_on_submit():
        return page()
    return perform(
        lambda: workflows.create_credential(
            org,
            _user(),
            name=form.name.data,
            kind=form.kind.data,
            secret=form.secret.data or "",
            header_name=form.header_name.data or "",
            username=form.username.data or "",
            connection_id=form.connection_id.data,
        ),
        then=url_for("workflows.credentials", slug=org.slug),
        success=gettext("Credential “%(name)s” saved. Its secret will not be shown again.", name=form.name.data),
        form=form,
        failed=page,
    )


@bp.route("/credentials/<int:credential_id>", methods=["GET", "POST"])
@org_view("workflows")
def credential_detail(org, credential_id):
    credential = org_object_or_404(WorkflowCredential, org, credential_id)
    if credential.revoked_at is not None:
        abort(404)
    form = ReplaceSecretForm()

    def page(_=None):
        form.secret.data = ""
        uses = db.session.scalars(
            select(CredentialUsage)
            .where(CredentialUsage.credential_id == credential.id)
            .order_by(CredentialUsage.id.desc())
            .limit(100)
        ).all()
        return render(
            "workflows/credential.html",
            org=org,
            credential=credential,
            uses=uses,
            form=form,
            button=EmptyForm(),
            status=422 if form.errors or form.form_errors else 200,
        )

    if not form.validate_on_submit():
        return page()
    return perform(
        lambda: workflows.replace_secret(credential, _user(), form.secret.data),
        then=url_for("workflows.credential_detail", slug=org.slug, credential_id=credential.id),
        success=gettext("Secret replaced."),
        form=form,
        failed=page,
    )


@bp.post("/credentials/<int:credential_id>/delete")
@org_view("workflows")
def delete_credential(org, credential_id):
    credential = org_object_or_404(WorkflowCredential, org, credential_id)
    return perform(
        lambda: workflows.delete_credential(credential, _user()),
        then=url_for("workflows.credentials", slug=org.slug),
        success=gettext("Credential deleted. Steps that used it will fail until you choose another."),
    )


from webapp.workflows import routes_marketplace  # noqa: E402,F401
