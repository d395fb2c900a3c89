from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from tests.factories import make_user
from webapp.alerts import checks, jobs
from webapp.alerts.models import SystemAlert
from webapp.alerts.services import raise_alert
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.models import OutboundCall
from webapp.mail.models import EmailMessage
from webapp.settings.services import update_setting


def _count(**where):
    return db.session.scalar(select(func.count(SystemAlert.id)).filter_by(**where))


def test_critical_alert_emails_staff_once_per_source_and_message(ctx, run_jobs, mailbox):
    make_user("ops1@tessera.example", staff=True)
    make_user("ops2@tessera.example", staff=True)
    make_user("customer@example.com")
    run_jobs()
    mailbox.clear()
    with time_machine.travel("2026-06-01 10:00:00+00:00", tick=False):
        for _ in range(5):
            raise_alert("critical", "mail", "The mail server is refusing messages")
        db.session.commit()
    run_jobs()
    assert len(mailbox.to("ops1@tessera.example")) == 1 and len(mailbox.to("ops2@tessera.example")) == 1
    assert mailbox.to("customer@example.com") == []
    alert = db.session.scalar(select(SystemAlert))
    assert (alert.occurrences, _count()) == (5, 1)

    with time_machine.travel("2026-06-01 10:30:00+00:00", tick=False):
        raise_alert("critical", "mail", "A different message")  # another (source, message): its own e-mail
        db.session.commit()
    run_jobs()
    assert len(mailbox.to("ops1@tessera.example")) == 2

    alert.resolved_at = utcnow()
    db.session.commit()
    with time_machine.travel("2026-06-01 10:40:00+00:00", tick=False):
        raise_alert("critical", "mail", "The mail server is refusing messages")  # new row, still inside the window
        db.session.commit()
    run_jobs()
    assert len(mailbox.to("ops1@tessera.example")) == 2 and _count(source="mail") == 3
    with time_machine.travel("2026-06-01 12:00:00+00:00", tick=False):
        raise_alert("critical", "mail", "The mail server is refusing messages")  # window passed: e-mail again
        db.session.commit()
    run_jobs()
    assert len(mailbox.to("ops1@tessera.example")) == 3


def test_scan_raises_for_providers_queues_and_refused_mail(ctx):
    update_setting("alerts.provider_error_threshold", "3", None)
    update_setting("alerts.queue_backlog_threshold", "2", None)
    now = utcnow()
    for _i in range(3):
        db.session.add(
            OutboundCall(provider="freee", action="list", method="GET", endpoint="/x", status_code=503, success=False)
        )
    db.session.add(OutboundCall(provider="drive", action="list", method="GET", endpoint="/y", status_code=500))
    db.session.add(
        EmailMessage(
            to_address="a@b.c",
            subject="s",
            template="t",
            html_body="",
            text_body="",
            status="FAILED",
            error="SMTPRecipientsRefused",
            updated_at=now,
        )
    )
    db.session.commit()
    from webapp.jobs.runner import backend, get_queue

    if backend() == "rq":
        for _ in range(3):
            get_queue("billing").enqueue("os.getcwd")
    result = jobs.scan_for_alerts()
    db.session.expire_all()
    assert result["providers"] == 1 and result["mail"] == 1
    assert _count(source="provider:freee", severity="error") == 1 and _count(source="provider:drive") == 0
    assert _count(source="mail", severity="critical") == 1
    if backend() == "rq":
        assert _count(source="queue:billing", severity="warning") == 1
    jobs.scan_for_alerts()  # again: the same alerts count another occurrence, no new rows
    db.session.expire_all()
    assert _count(source="provider:freee") == 1
    assert db.session.scalar(select(SystemAlert.occurrences).where(SystemAlert.source == "provider:freee")) == 2


def test_a_job_that_used_all_retries_raises_an_alert(ctx):
    from tests.workers import work
    from webapp.jobs.runner import backend, get_queue, redis_connection

    if backend() != "rq":
        return  # without Redis there is no failed-job registry: jobs run in-process and log their errors
    get_queue("default").enqueue("webapp.alerts.checks.no_such_function", description="demo.broken_job")
    work([get_queue("default")], redis_connection(), logging_level="ERROR")
    assert checks.failed_jobs() == 1
    assert checks.failed_jobs() == 0  # the same failed job is reported once
    alert = db.session.scalar(select(SystemAlert).where(SystemAlert.source == "jobs:default"))
    assert alert.message == "demo.broken_job failed after all retries" and alert.severity == "error"


def test_staff_list_filter_and_resolve(app, client, make_client):
    with app.app_context():
        make_user("ops@tessera.example", staff=True)
        make_user("nosy@example.com")
        raise_alert("warning", "queue:email", "The email queue is backing up")
        raise_alert("error", "provider:freee", "freee keeps answering errors")
        db.session.commit()
        alert_id = db.session.scalar(select(SystemAlert.id).where(SystemAlert.source == "provider:freee"))
    client.login("ops@tessera.example")
    page = client.get("/admin/alerts/").get_data(as_text=True)
    assert "backing up" in page and "keeps answering errors" in page
    only = client.get("/admin/alerts/?severity=error", htmx=True).get_data(as_text=True)
    assert "keeps answering errors" in only and "backing up" not in only
    assert "backing up" in client.get("/admin/alerts/?source=queue").get_data(as_text=True)
    assert client.post(f"/admin/alerts/{alert_id}/resolve", {"note": "freee fixed it"}).status_code == 303
    resolved = client.get("/admin/alerts/?state=resolved").get_data(as_text=True)
    assert "ops@tessera.example" in resolved and "freee fixed it" in resolved
    assert "keeps answering errors" not in client.get("/admin/alerts/").get_data(as_text=True)
    again = client.post(f"/admin/alerts/{alert_id}/resolve", follow_redirects=True)
    assert "already resolved" in again.get_data(as_text=True)
    nosy = make_client()
    nosy.login("nosy@example.com")
    assert nosy.get("/admin/alerts/").status_code == 404
    assert nosy.post(f"/admin/alerts/{alert_id}/resolve").status_code == 404
    with app.app_context():
        assert db.session.get(SystemAlert, alert_id).resolved_by.email == "ops@tessera.example"
        assert timedelta(0) <= utcnow() - db.session.get(SystemAlert, alert_id).resolved_at < timedelta(minutes=5)
