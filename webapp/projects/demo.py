"""Demo: a rollout project with tasks in every column for Harare Retail Group."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from webapp.demo import step
from webapp.extensions import db
from webapp.orgs.demo import demo_org, demo_user
from webapp.projects import services as projects
from webapp.projects.models import Project

TASKS = [
    ("Install two terminals at Avondale", "DONE", "member"),
    ("Train cashiers at Borrowdale", "DOING", "member"),
    ("Order receipt paper for Q1", "TODO", "admin"),
    ("Reconcile November card settlements", "TODO", "billing"),
]


@step(order=70)
def rollout_project() -> None:
    org = demo_org("harare-retail")
    if org is None or db.session.scalar(
        select(Project.id).where(Project.organization_id == org.id, Project.name == "Store rollout")
    ):
        return
    owner = demo_user("owner@harare-retail.example", "Owner of Harare Retail Group")
    project = projects.create_project(org, owner, "Store rollout", "New terminals for the Harare stores.")
    for i, (title, status, role) in enumerate(TASKS):
        task = projects.create_task(project, owner, title)
        assignee = demo_user(f"{role}@harare-retail.example", "")
        projects.update_task(
            task,
            owner,
            title=title,
            description="",
            status=status,
            assignee_id=assignee.id,
            due_date=date.today() + timedelta(days=7 * (i + 1)),
        )
