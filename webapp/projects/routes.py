from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from webapp.core.access import org_object_or_404, org_view
from webapp.core.htmx import is_htmx, redirect, render
from webapp.core.parsing import int_or_none
from webapp.core.transaction import flash_then, perform
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.projects import bp
from webapp.projects import services as projects
from webapp.projects.forms import AttachDriveForm, ProjectForm, TaskForm
from webapp.projects.models import Project, Task


def _member_choices(org) -> list[SelectChoice]:
    members = db.session.scalars(select(Membership).where(Membership.organization_id == org.id)).all()
    return [SelectChoice("", _("Nobody"))] + [SelectChoice(str(m.user_id), m.user.display_name) for m in members]


def _task_form(org, task=None) -> TaskForm:
    form = TaskForm(obj=task) if task is not None and request.method == "GET" else TaskForm()
    form.assignee_id.choices = _member_choices(org)
    if task is not None and request.method == "GET":
        form.assignee_id.data = str(task.assignee_id or "")
    return form


def _attachments(org, project=None, task=None) -> dict:
    from webapp.files.models import FileUpload
    from webapp.files.services import download_url
    from webapp.integrations.models import DriveFile

    column_upload = FileUpload.task_id if task else FileUpload.project_id
    column_drive = DriveFile.task_id if task else DriveFile.project_id
    target = (task or project).id
    uploads = db.session.scalars(
        select(FileUpload).where(
            FileUpload.organization_id == org.id, column_upload == target, FileUpload.deleted_at.is_(None)
        )
    ).all()
    drive = db.session.scalars(
        select(DriveFile).where(DriveFile.organization_id == org.id, column_drive == target)
    ).all()
    return {
        "uploads": uploads,
        "links": {u.id: download_url(org, u) for u in uploads if u.downloadable},
        "drive_files": drive,
    }


def _drive_form(org) -> AttachDriveForm:
    from webapp.integrations.models import DriveFile

    form = AttachDriveForm()
    files = db.session.scalars(
        select(DriveFile)
        .where(DriveFile.organization_id == org.id, DriveFile.unlinked_at.is_(None))
        .order_by(DriveFile.file_name)
        .limit(500)
    ).all()
    form.drive_file_id.choices = [SelectChoice(str(f.id), f.file_name) for f in files if not f.is_folder]
    return form


@bp.get("/")
@org_view("projects")
def index(org):
    return render("projects/index.html", org=org, projects=projects.projects_of(org), form=ProjectForm())


@bp.post("/")
@org_view("projects")
def create(org):
    form = ProjectForm()

    def page(_=None):
        return render("projects/index.html", org=org, projects=projects.projects_of(org), form=form, status=422)

    if not form.validate_on_submit():
        return page()
    return perform(
        lambda: projects.create_project(org, current_user.user, form.name.data, form.description.data or ""),
        then=lambda project: redirect(url_for("projects.show", slug=org.slug, project_id=project.id)),
        form=form,
        failed=page,
    )


def _project_page(org, project, task_form=None, status=200):
    view = "board" if request.args.get("view") == "board" else "list"
    return render(
        "projects/show.html",
        block="board" if view == "board" else None,
        org=org,
        project=project,
        view=view,
        columns=projects.board(project),
        labels=Task.LABELS,
        task_form=task_form or _task_form(org),
        status=status,
        **_attachments(org, project=project),
    )


@bp.get("/<int:project_id>")
@org_view("projects")
def show(org, project_id):
    return _project_page(org, org_object_or_404(Project, org, project_id))


@bp.post("/<int:project_id>/tasks")
@org_view("projects")
def create_task(org, project_id):
    project = org_object_or_404(Project, org, project_id)
    form = _task_form(org)
    if not form.validate_on_submit():
        return _project_page(org, project, task_form=form, status=422)

    def create():
        task = projects.create_task(project, current_user.user, form.title.data)
        _save_task(task, form)
        return task

    return perform(
        create,
        then=url_for("projects.show", slug=org.slug, project_id=project.id, view=request.args.get("view")),
        success=_("Task added."),
        form=form,
        field="title",
        failed=lambda _: _project_page(org, project, task_form=form, status=422),
    )


def _save_task(task: Task, form: TaskForm) -> None:
    projects.update_task(
        task,
        current_user.user,
        title=form.title.data,
        description=form.description.data,
        status=form.status.data,
        assignee_id=_int(form.assignee_id.data),
        due_date=form.due_date.data,
    )


def _int(value) -> int | None:
    return int_or_none(str(value)) if value else None


def _task_in_project(org, project_id, task_id) -> tuple[Project, Task]:
    project = org_object_or_404(Project, org, project_id)
    task = org_object_or_404(Task, org, task_id)
    if task.project_id != project.id:
        abort(404)
    return project, task


@bp.post("/<int:project_id>/tasks/<int:task_id>/move")
@org_view("projects")
def move_task(org, project_id, task_id):
    project, task = _task_in_project(org, project_id, task_id)

    def answer(_=None):
        if is_htmx():
            return _project_page(org, project)  # the board block, refreshed in place
        return redirect(url_for("projects.show", slug=org.slug, project_id=project.id, view="board"))

    return perform(
        lambda: projects.move_task(task, current_user.user, request.form.get("status", "")),
        then=answer,
        failed=flash_then(answer),
    )


@bp.route("/<int:project_id>/tasks/<int:task_id>", methods=["GET", "POST"])
@org_view("projects")
def task(org, project_id, task_id):
    project, task = _task_in_project(org, project_id, task_id)
    form = _task_form(org, task)

    def page(_=None):
        return render(
            "projects/task.html",
            org=org,
            project=project,
            task=task,
            form=form,
            drive_form=_drive_form(org),
            status=422 if request.method == "POST" else 200,
            **_attachments(org, task=task),
        )

    if request.method != "POST" or not form.validate_on_submit():
        return page()
    return perform(
        lambda: _save_task(task, form),
        then=url_for("projects.task", slug=org.slug, project_id=project.id, task_id=task.id),
        success=_("Task saved."),
        form=form,
        field="title",
        failed=page,
    )


@bp.post("/<int:project_id>/tasks/<int:task_id>/drive")
@org_view("projects")
def attach_drive_file(org, project_id, task_id):
    from webapp.integrations.models import DriveFile
    from webapp.integrations.services import link_drive_file

    project, task = _task_in_project(org, project_id, task_id)
    drive_file = org_object_or_404(DriveFile, org, _int(request.form.get("drive_file_id")) or 0)
    return perform(
        lambda: link_drive_file(drive_file, current_user.user, project.id, task.id),
        then=url_for("projects.task", slug=org.slug, project_id=project.id, task_id=task.id),
        success=_("%(name)s attached.", name=drive_file.file_name),
    )
