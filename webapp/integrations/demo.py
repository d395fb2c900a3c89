"""Demo: Kyoto Creators connects freee and Google Drive (the sandboxes) and syncs both.

Runs in one process with no browser: the consent answer is posted to the sandbox the way a browser
would, and the code exchange, API calls and syncs go through the real provider client over HTTP.
When nothing answers at BASE_URL yet (``flask seed demo`` before the server starts), the app is
served on BASE_URL's port for the duration of the step.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from urllib.parse import parse_qs, urlsplit

import httpx
from flask import current_app
from sqlalchemy import select
from werkzeug.serving import make_server

from webapp.demo import step
from webapp.extensions import db
from webapp.integrations import oauth, services
from webapp.integrations.models import Connection

log = logging.getLogger(__name__)
DEMO_CHOICES = {"freee": {"company_id": "1001"}, "google_drive": {"account": "ana@drive.example"}}


@contextlib.contextmanager
def serving_app():
    """Make sure BASE_URL answers (the sandboxes live in this app)."""
    base = current_app.config["BASE_URL"]
    try:
        httpx.get(f"{base}/healthz", timeout=2)
        yield
        return
    except httpx.HTTPError:
        pass
    parts = urlsplit(base)
    server = make_server(
        parts.hostname or "127.0.0.1", parts.port or 80, current_app._get_current_object(), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()


def connect_via_sandbox(provider: str, org, user, answer: dict | None = None) -> Connection:
    """The whole authorization-code flow against a sandbox, answering its consent page with ``answer``."""
    url = oauth.begin_authorization(provider, org, user)
    db.session.commit()  # the sandbox and the callback run in other transactions
    consent = httpx.post(url, data={"decision": "allow", **(answer or DEMO_CHOICES[provider])}, timeout=30)
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
    with serving_app():
        for provider in ("freee", "google_drive"):
            existing = db.session.scalar(
                select(Connection).where(Connection.organization_id == org.id, Connection.provider == provider)
            )
            if existing is not None:
                continue
            connection = connect_via_sandbox(provider, org, admin)
            services.set_sync_frequency(connection, admin, "daily")
            run = services.start_sync(connection, admin, trigger="demo")
            db.session.commit()
            # Run it now, while the sandbox answers; the queued copy finds it finished and does nothing.
            (run_freee_sync if provider == "freee" else run_drive_sync)(run.id)
