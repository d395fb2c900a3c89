"""Projects and tasks: a small per-organization work area that Drive files and uploads attach to,
with a list and a board view."""

from flask import Blueprint

bp = Blueprint("projects", __name__, url_prefix="/o/<slug>/projects")


def init_app(app):
    from webapp.files.services import attachable
    from webapp.integrations.services import WorkItems, attach_to
    from webapp.orgs.dashboard import nav_item
    from webapp.projects.models import Project, Task
    from webapp.projects.services import new_task, projects_of, tasks_of

    nav_item("Projects", "projects.index", "projects", order=78)
    attachable("project_id", Project, lambda project: project.name)  # uploads go with a project or a task
    attachable("task_id", Task, lambda task: task.title, limit=500)
    attach_to(WorkItems(Project, Task, projects_of, tasks_of, new_task))  # Drive files attach to them too


from webapp.projects import models, routes  # noqa: E402,F401
