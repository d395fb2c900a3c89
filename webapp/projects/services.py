"""Rules for projects and tasks: flush, never commit; audited."""

from __future__ import annotations

from sqlalchemy import func, select

from webapp.audit import record
from webapp.core.errors import DomainError
from webapp.core.terms import N_
from webapp.extensions import db
from webapp.projects.models import Project, Task


def create_project(org, actor, name: str, description: str = "") -> Project:
    name = (name or "").strip()
    if not name:
        raise DomainError(N_("Give the project a name."), field="name")
    if len(name) > 200:
        raise DomainError(N_("Keep the name under 200 characters."), field="name")
    project = Project(
        organization_id=org.id, created_by_id=getattr(actor, "id", None), name=name, description=description or ""
    )
    db.session.add(project)
    db.session.flush()
    record(actor, "project.created", project, {"name": name})
    return project


def create_task(project: Project, actor, title: str) -> Task:
    title = (title or "").strip()
    if not title:
        raise DomainError(N_("Give the task a title."), field="title")
    if len(title) > 300:
        raise DomainError(N_("Keep the title under 300 characters."), field="title")
    task = Task(
        organization_id=project.organization_id,
        created_by_id=getattr(actor, "id", None),
        project=project,
        title=title,
        position=len(project.tasks),
    )
    db.session.add(task)
    db.session.flush()
    record(actor, "task.created", task, {"project_id": project.id, "title": title})
    return task


def projects_of(org) -> list[Project]:
    return list(db.session.scalars(select(Project).where(Project.organization_id == org.id).order_by(Project.name)))


def new_task(org, actor, project_name: str, task_title: str) -> Task:
    """A task in a new project (the integrations demo attaches a Drive file to it)."""
    return create_task(create_project(org, actor, project_name), actor, task_title)


def tasks_of(org) -> list[Task]:
    stmt = select(Task).where(Task.organization_id == org.id).order_by(Task.project_id, Task.position, Task.id)
    return list(db.session.scalars(stmt))


def _assignee(project_org_id: int, assignee_id: int | None):
    """An assignee must be a member of the task's organization."""
    if not assignee_id:
        return None
    from webapp.orgs.models import Membership

    member = db.session.scalar(
        select(Membership.user_id).where(
            Membership.organization_id == project_org_id, Membership.user_id == assignee_id
        )
    )
    if member is None:
        raise DomainError(N_("Choose a member of this organization."), field="assignee_id")
    return member


def update_task(
    task: Task, actor, *, title: str, description: str, status: str, assignee_id: int | None, due_date
) -> Task:
    title = (title or "").strip()
    if not title:
        raise DomainError(N_("Give the task a title."), field="title")
    if status not in Task.STATUSES:
        raise DomainError(N_("Choose a status from the list."), field="status")
    task.title = title[:300]
    task.description = (description or "").strip()
    task.assignee_id = _assignee(task.organization_id, assignee_id)
    task.due_date = due_date
    if task.status != status:
        move_task(task, actor, status)
    record(actor, "task.updated", task, {"title": task.title})
    return task


def move_task(task: Task, actor, status: str) -> Task:
    """Move a task to another column of the board, at the bottom."""
    if status not in Task.STATUSES:
        raise DomainError(N_("Choose a status from the list."), field="status")
    if task.status == status:
        return task
    old = task.status
    last = db.session.scalar(
        select(func.max(Task.position)).where(Task.project_id == task.project_id, Task.status == status)
    )
    task.status = status
    task.position = (last or 0) + 1
    record(actor, "task.moved", task, {"from": old, "to": status})
    return task


def board(project: Project) -> dict[str, list[Task]]:
    columns: dict[str, list[Task]] = {status: [] for status in Task.STATUSES}
    for task in project.tasks:
        columns[task.status].append(task)
    return columns
