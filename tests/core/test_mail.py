"""Mail through a real SMTP server (aiosmtpd): both parts, the e-mail log's states, failures with
the error kept and RQ retrying, and resending from the console."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from rq.scheduler import RQScheduler
from sqlalchemy import select

from tests.conftest import REDIS_UP, _free_port
from tests.factories import make_user
from webapp.extensions import db
from webapp.integrations.models import OutboundCall
from webapp.jobs.runner import get_queue, queue_name
from webapp.mail import send_email
from webapp.mail.models import EmailMessage

needs_redis = pytest.mark.skipif(not REDIS_UP, reason="needs Redis at TEST_REDIS_URL")


def _queue_invitation(to="rudo@example.com", name="Rudo <b>&</b>"):
    message = send_email(
        to,
        "auth/verify",
        subject="Confirm your e-mail address",
        link="http://127.0.0.1/auth/verify/abc",
        name=name,
    )
    db.session.commit()
    return message


def test_message_is_logged_queued_then_sent_with_html_and_text_parts(ctx, mailbox, run_jobs):
    message = _queue_invitation()
    assert message.status == EmailMessage.QUEUED and message.attempts == 0
    assert mailbox.to("rudo@example.com") == []  # nothing leaves before a worker runs
    run_jobs()

    received = mailbox.last_to("rudo@example.com")
    assert received["Subject"] == "Confirm your e-mail address"
    assert received["From"] == "Tessera <no-reply@tessera.local>"
    html = received.get_body(preferencelist=("html",)).get_content()
    text = received.get_body(preferencelist=("plain",)).get_content()
    assert '<a href="http://127.0.0.1/auth/verify/abc">' in html
    assert "Rudo &lt;b&gt;&amp;&lt;/b&gt;" in html  # the context is escaped in the HTML part
    assert "http://127.0.0.1/auth/verify/abc" in text and "<a" not in text

    db.session.expire_all()
    row = db.session.get(EmailMessage, message.id)
    assert row.status == EmailMessage.SENT and row.sent_at is not None and row.error is None
    assert row.attempts == 1 and row.message_id == received["Message-ID"]


def _smtp_calls(message):
    calls = db.session.scalars(select(OutboundCall).where(OutboundCall.provider == "smtp").order_by(OutboundCall.id))
    return [c for c in calls if c.details.get("email_id") == message.id]


def test_each_smtp_send_is_in_the_outbound_call_log_without_the_message(app, ctx, mailbox, run_jobs):
    message = _queue_invitation()
    run_jobs()
    db.session.expire_all()
    [call] = _smtp_calls(message)
    config = app.config
    assert call.endpoint == f"smtp://{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
    assert (call.action, call.method, call.success, call.status_code, call.error) == (
        "send_email",
        "SMTP",
        True,
        250,
        None,
    )
    assert call.attempt == 1 and call.duration_ms >= 0
    assert call.details == {"email_id": message.id, "template": "auth/verify"}
    logged = " ".join(str(v) for v in (call.endpoint, call.error, call.details))
    assert "auth/verify/abc" not in logged and "Rudo" not in logged  # neither the body nor its link


def test_a_sent_message_is_not_sent_twice(ctx, mailbox, run_jobs):
    from webapp.mail.jobs import deliver_email

    message = _queue_invitation()
    run_jobs()
    deliver_email(message.id)  # a duplicate run of the job
    assert len(mailbox.to("rudo@example.com")) == 1


@pytest.fixture
def mail_port(app):
    saved = app.config["MAIL_PORT"]

    def use(port):
        app.config["MAIL_PORT"] = port

    yield use
    app.config["MAIL_PORT"] = saved


class Refuser:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 mailbox unavailable"


@pytest.fixture
def refusing_server():
    controller = Controller(Refuser(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port
    controller.stop()


def test_an_unreachable_server_marks_the_message_failed_with_the_error(app, ctx, mailbox, run_jobs, mail_port):
    mail_port(_free_port())  # nothing listens there
    message = _queue_invitation()
    run_jobs()
    db.session.expire_all()
    row = db.session.get(EmailMessage, message.id)
    assert row.status == EmailMessage.FAILED
    assert row.error.startswith("ConnectionRefusedError")
    assert row.attempts == 1 and row.sent_at is None
    [call] = _smtp_calls(message)
    assert (call.success, call.status_code) == (False, None)
    assert call.error.startswith("ConnectionRefusedError") and call.endpoint.endswith(f":{app.config['MAIL_PORT']}")


@needs_redis
def test_a_refusing_server_fails_the_message_and_rq_retries_it_later(app, ctx, mailbox, mail_port, refusing_server):
    from tests.core.test_jobs import _work

    working = app.config["MAIL_PORT"]
    mail_port(refusing_server)
    message = _queue_invitation("later@example.com")
    queue = get_queue("email")
    job = queue.jobs[0]
    assert job.retries_left == 3 and job.retry_intervals == [30, 120, 600]
    started = datetime.now(UTC)
    _work(app, "email")

    db.session.expire_all()
    row = db.session.get(EmailMessage, message.id)
    assert row.status == EmailMessage.FAILED
    assert "SMTPRecipientsRefused" in row.error and "mailbox unavailable" in row.error
    [call] = _smtp_calls(message)
    assert (call.success, call.status_code, call.attempt) == (False, 550, 1)
    job.refresh()
    retry_at = queue.scheduled_job_registry.get_scheduled_time(job)
    assert 28 <= (retry_at - started).total_seconds() <= 32  # retried after its backoff, not dropped

    mail_port(working)  # the server takes mail again
    scheduler = RQScheduler([queue_name("email")], connection=app.extensions["tessera.redis"])
    scheduler.prepare_registries([queue_name("email")])
    with time_machine.travel(started + timedelta(seconds=31), tick=False):
        scheduler.enqueue_scheduled_jobs()
    _work(app, "email")
    db.session.expire_all()
    row = db.session.get(EmailMessage, message.id)
    assert row.status == EmailMessage.SENT and row.attempts == 2 and row.error is None
    assert [(c.attempt, c.success, c.status_code) for c in _smtp_calls(message)] == [(1, False, 550), (2, True, 250)]
    assert mailbox.last_to("later@example.com")["Subject"] == "Confirm your e-mail address"


def test_staff_resend_a_failed_message(app, client, ctx, mailbox, run_jobs, mail_port):
    working = app.config["MAIL_PORT"]
    mail_port(_free_port())
    message = _queue_invitation("retry-me@example.com")
    run_jobs()
    db.session.expire_all()
    assert db.session.get(EmailMessage, message.id).status == EmailMessage.FAILED
    mail_port(working)
    _clear_failed_retries(app)

    make_user("ops@example.com", staff=True)
    client.login("ops@example.com")
    page = client.get(f"/admin/emails/{message.id}").get_data(as_text=True)
    assert "ConnectionRefusedError" in page and "Send again" in page
    response = client.post(f"/admin/emails/{message.id}/resend")
    assert response.status_code == 303
    run_jobs()
    db.session.expire_all()
    row = db.session.get(EmailMessage, message.id)
    assert row.status == EmailMessage.SENT and row.attempts == 2
    assert len(mailbox.to("retry-me@example.com")) == 1

    from webapp.audit.models import AuditEntry

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "email.resent"))
    assert entry.actor_label == "ops@example.com" and entry.entity_id == message.id
    assert entry.details["previous_error"].startswith("ConnectionRefusedError")

    again = client.post(f"/admin/emails/{message.id}/resend", follow_redirects=True)
    assert "Only a message that failed can be sent again." in again.get_data(as_text=True)


def _clear_failed_retries(app):
    """The failed delivery sits in RQ's retry schedule; empty it so only the resend delivers."""
    if app.extensions["tessera.jobs_backend"] == "rq":
        registry = get_queue("email").scheduled_job_registry
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
