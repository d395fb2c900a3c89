"""Ids of one project and one task in ``org``, for the tenancy sweep."""

from webapp.extensions import db
from webapp.projects import services as projects


def _project(org, user):
    project = projects.create_project(org, user, "Sweep project")
    db.session.commit()
    return project.id


def _task(org, user):
    from webapp.projects.models import Project

    project = db.session.get(Project, _project(org, user))
    task = projects.create_task(project, user, "Sweep task")
    db.session.commit()
    return task.id


SAMPLES = {"project_id": _project, "task_id": _task}
