"""Demo: Kyoto Creators connects freee and Google Drive (the sandboxes) and syncs both.

Runs in one process with no browser: the consent answer is posted to the sandbox process the way a
browser would, and the code exchange, API calls and syncs go through the real provider client over
HTTP. Nothing here depends on what answers at BASE_URL: the callback is completed in this process,
and the sandbox process is found (or started for the step) at SANDBOX_URL.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
from flask import current_app
from sqlalchemy import select

from webapp.demo import step
from webapp.extensions import db
from webapp.integrations import oauth, services
from webapp.integrations.models import Connection
from webapp.integrations.sandbox_process import serving_sandboxes

log = logging.getLogger(__name__)
DEMO_CHOICES = {"freee": {"company_id": "1001"}, "google_drive": {"account": "ana@drive.example"}}


def connect_via_sandbox(provider: str, org, user, answer: dict | None = None) -> Connection:
    """The whole authorization-code flow against a sandbox, answering its consent page with ``answer``
    (the consent form carries the authorize request's parameters, as the sandboxes' pages do)."""
    url = oauth.begin_authorization(provider, org, user)
    db.session.commit()  # the sandbox and the callback run in other transactions
    form = {**dict(parse_qsl(urlsplit(url).query)), "decision": "allow", **(answer or DEMO_CHOICES[provider])}
    consent = httpx.post(url, data=form, timeout=30)
    if consent.status_code != 302:
        raise RuntimeError(f"{provider} sandbox consent answered {consent.status_code}")
    args = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["Location"]).query).items()}
    connection = oauth.complete_authorization(provider, args, user)
    db.session.commit()
    return connection


@step(order=80)
def connect_and_sync() -> None:
    from webapp.integrations.jobs import run_drive_sync, run_freee_sync
    from webapp.orgs.demo import demo_org, demo_user

    if not current_app.config.get("SANDBOXES_ENABLED"):
        log.info("demo: sandboxes are off; integrations demo skipped")
        return
    org = demo_org("kyoto-creators")
    if org is None:
        return
    admin = demo_user("admin@kyoto-creators.example", "Admin at Kyoto Creators")
    with serving_sandboxes():
        for provider in ("freee", "google_drive"):
            existing = db.session.scalar(
                select(Connection).where(Connection.organization_id == org.id, Connection.provider == provider)
            )
            if existing is not None:
                continue
            connection = connect_via_sandbox(provider, org, admin)
            services.set_sync_frequency(connection, admin, "daily")
            # Committed before each call to the sandbox: the call log writes on its own connection, and
            # SQLite (the default demo database) has one writer, so an open write here would lock it out.
            db.session.commit()
            if provider == "google_drive":
                _choose_demo_folder(connection, admin)
            run = services.start_sync(connection, admin, trigger="demo")
            db.session.commit()
            # Run it now, while the sandbox answers; the queued copy finds it finished and does nothing.
            (run_freee_sync if provider == "freee" else run_drive_sync)(run.id)
            if provider == "google_drive":
                _cache_one_attachment(org, admin)


def _choose_demo_folder(connection: Connection, admin) -> None:
    """Sync only the "Design" folder (found with the folder picker's own listing)."""
    from webapp.integrations import drive_files

    listing = drive_files.folder_listing(connection, None)
    design = next((f for f in listing["folders"] if f.get("name") == "Design"), None)
    if design is not None:
        drive_files.choose_root_folder(connection, admin, design["id"])
        db.session.commit()


def _cache_one_attachment(org, admin) -> None:
    """Attach one synced file to a task: its content is cached (DRIVE_CACHE) for the set time."""
    from webapp.integrations import drive_files
    from webapp.integrations.models import DriveFile

    drive_file = next(
        (
            f
            for f in db.session.scalars(
                select(DriveFile).where(DriveFile.organization_id == org.id).order_by(DriveFile.file_size)
            )
            if drive_files.can_cache(f)
        ),
        None,
    )
    if drive_file is None:
        return
    task = services.work_items().new_task(org, admin, "Shop window redesign", "Approve the mock-up")
    services.link_drive_file(drive_file, admin, task.project_id, task.id)
    db.session.commit()  # before the download, as above
    drive_files.cache_content(drive_file, admin)  # now, while the sandbox answers (the queued job then finds it done)
    db.session.commit()
