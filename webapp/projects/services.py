"""Rules for projects and tasks: flush, never commit; audited."""

from __future__ import annotations

from sqlalchemy import select

from webapp.audit import record
from webapp.core.errors import DomainError
from webapp.extensions import db
from webapp.projects.models import Project, Task


def create_project(org, actor, name: str, description: str = "") -> Project:
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the project a name.", field="name")
    if len(name) > 200:
        raise DomainError("Keep the name under 200 characters.", field="name")
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
        raise DomainError("Give the task a title.", field="title")
    if len(title) > 300:
        raise DomainError("Keep the title under 300 characters.", field="title")
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


def tasks_of(org) -> list[Task]:
    stmt = select(Task).where(Task.organization_id == org.id).order_by(Task.project_id, Task.position, Task.id)
    return list(db.session.scalars(stmt))
