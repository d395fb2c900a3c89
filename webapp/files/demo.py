"""Demo: a few files for Harare Retail Group, one attached to a task, one temporary."""

from __future__ import annotations

import io

from sqlalchemy import select

from webapp.demo import step
from webapp.extensions import db
from webapp.files import services as files
from webapp.files.models import FileUpload
from webapp.orgs.demo import demo_org, demo_user

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@step(order=75)
def demo_files() -> None:
    org = demo_org("harare-retail")
    if org is None or db.session.scalar(select(FileUpload.id).where(FileUpload.organization_id == org.id)):
        return
    owner = demo_user("owner@harare-retail.example", "Owner of Harare Retail Group")
    project = files.first_attachable("project_id", org)
    task = files.first_attachable("task_id", org) if project else None
    files.upload_file(org, owner, io.BytesIO(PNG), "harare-retail-logo.png", "WORKSPACE_LOGO")
    files.upload_file(
        org,
        owner,
        io.BytesIO(b"%PDF-1.4\n% store floor plan\n" + b"0" * 4000),
        "avondale-floor-plan.pdf",
        "TASK_ATTACHMENT",
        project=project,
        task=task,
    )
    files.upload_file(
        org,
        owner,
        io.BytesIO(b"sku,qty\nPAPER-80MM,120\nINK-BLK,12\n"),
        "q1-order.csv",
        "PROJECT_ASSET",
        project=project,
    )
    files.upload_file(org, owner, io.BytesIO(b"draft notes for the rollout call"), "call-notes.txt", "TEMPORARY_UPLOAD")


@step(order=76)
def demo_avatars_and_logo() -> None:
    """Avatars for the demo people of every demo organization and a logo for the main one."""
    from webapp.auth.services import find_user_by_email
    from webapp.files.branding_demo import give_avatar, give_logo
    from webapp.orgs.demo import ORGANIZATIONS, PEOPLE, STAFF_EMAIL

    emails = [STAFF_EMAIL] + [f"{role.lower()}@{slug}.example" for _n, slug, *_ in ORGANIZATIONS for role in PEOPLE]
    for email in emails:
        user = find_user_by_email(email)
        if user is not None:
            give_avatar(user)
    org = demo_org("harare-retail")
    if org is not None:
        give_logo(org, demo_user("owner@harare-retail.example", "Owner of Harare Retail Group"))
