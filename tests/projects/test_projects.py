import io

from sqlalchemy import select

from tests.factories import add_member, make_org, make_user
from webapp.extensions import db
from webapp.files.models import FileUpload
from webapp.projects.models import Project, Task


def _setup(client):
    owner = make_user("pm@example.com")
    org = make_org(owner, "Build Co", "build-co")
    client.login(owner.email)
    return owner, org


def test_projects_tasks_list_and_board(client, ctx):
    _, org = _setup(client)
    teammate = make_user("dev@example.com", name="Dev")
    add_member(org, teammate, "MEMBER")
    assert (
        client.post(f"/o/{org.slug}/projects/", {"name": "Till rollout", "description": "Harare stores"}).status_code
        == 303
    )
    project = db.session.scalar(select(Project))
    created = client.post(
        f"/o/{org.slug}/projects/{project.id}/tasks",
        {
            "title": "Install terminals",
            "description": "Two per store",
            "status": "TODO",
            "assignee_id": str(teammate.id),
            "due_date": "2026-12-01",
        },
    )
    assert created.status_code == 303
    task = db.session.scalar(select(Task))
    assert (task.assignee_id, str(task.due_date), task.description) == (teammate.id, "2026-12-01", "Two per store")
    listing = client.get(f"/o/{org.slug}/projects/{project.id}").get_data(as_text=True)
    assert "Install terminals" in listing and "Dev" in listing

    # the board moves a card with htmx and answers with the board block only
    moved = client.post(
        f"/o/{org.slug}/projects/{project.id}/tasks/{task.id}/move?view=board", {"status": "DOING"}, htmx=True
    )
    body = moved.get_data(as_text=True)
    assert moved.status_code == 200 and "<html" not in body and 'aria-label="Doing"' in body
    db.session.refresh(task)
    assert task.status == "DOING"
    bad = client.post(f"/o/{org.slug}/projects/{project.id}/tasks/{task.id}/move", {"status": "LOST"})
    assert bad.status_code == 303
    db.session.refresh(task)
    assert task.status == "DOING"


def test_refusals_blank_title_foreign_assignee_and_task_of_another_project(client, ctx):
    _, org = _setup(client)
    client.post(f"/o/{org.slug}/projects/", {"name": "A"})
    client.post(f"/o/{org.slug}/projects/", {"name": "B"})
    a, b = db.session.scalars(select(Project).order_by(Project.id)).all()
    blank = client.post(f"/o/{org.slug}/projects/{a.id}/tasks", {"title": " ", "status": "TODO", "assignee_id": ""})
    assert blank.status_code == 422
    outsider = make_user("outsider@example.com")
    foreign = client.post(
        f"/o/{org.slug}/projects/{a.id}/tasks", {"title": "X", "status": "TODO", "assignee_id": str(outsider.id)}
    )
    assert foreign.status_code == 422 and "member of this organization" in foreign.get_data(as_text=True)
    assert db.session.scalar(select(Task)) is None
    client.post(f"/o/{org.slug}/projects/{a.id}/tasks", {"title": "Real", "status": "TODO", "assignee_id": ""})
    task = db.session.scalar(select(Task))
    assert client.get(f"/o/{org.slug}/projects/{b.id}/tasks/{task.id}").status_code == 404


def test_task_attachments_from_uploads(client, ctx):
    _, org = _setup(client)
    client.post(f"/o/{org.slug}/projects/", {"name": "Docs"})
    project = db.session.scalar(select(Project))
    client.post(
        f"/o/{org.slug}/projects/{project.id}/tasks", {"title": "Contract", "status": "TODO", "assignee_id": ""}
    )
    task = db.session.scalar(select(Task))
    page = f"/o/{org.slug}/projects/{project.id}/tasks/{task.id}"
    uploaded = client.post(
        f"/o/{org.slug}/files/",
        {
            "file": (io.BytesIO(b"%PDF-1.4\ncontract"), "contract.pdf"),
            "file_type": "TASK_ATTACHMENT",
            "project_id": str(project.id),
            "task_id": str(task.id),
            "next": page,
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 303 and uploaded.headers["Location"].endswith(page)
    upload = db.session.scalar(select(FileUpload))
    assert (upload.task_id, upload.project_id) == (task.id, project.id)
    assert "contract.pdf" in client.get(page).get_data(as_text=True)


def test_billing_role_cannot_use_projects(client, make_client, ctx):
    _, org = _setup(client)
    accountant = make_user("acct@example.com")
    add_member(org, accountant, "BILLING")
    other = make_client()
    other.login(accountant.email)
    assert other.get(f"/o/{org.slug}/projects/").status_code == 403


def test_a_card_move_that_loses_the_race_twice_refreshes_the_board_with_a_flash(client, ctx, monkeypatch):
    from tests.races import lose_commits

    _, org = _setup(client)
    client.post(f"/o/{org.slug}/projects/", {"name": "Race", "description": ""})
    project = db.session.scalar(select(Project))
    client.post(f"/o/{org.slug}/projects/{project.id}/tasks", {"title": "Card", "status": "TODO", "assignee_id": ""})
    task = db.session.scalar(select(Task))
    lost = lose_commits(monkeypatch, times=2)
    moved = client.post(
        f"/o/{org.slug}/projects/{project.id}/tasks/{task.id}/move?view=board", {"status": "DOING"}, htmx=True
    )
    assert moved.status_code == 200 and len(lost) == 2
    assert "Someone else changed this" in moved.get_data(as_text=True) or "Someone else changed this" in (
        client.get(f"/o/{org.slug}/projects/{project.id}").get_data(as_text=True)
    )
    db.session.refresh(task)
    assert task.status == "TODO"
