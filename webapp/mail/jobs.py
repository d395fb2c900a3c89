"""Delivery over SMTP. Safe to run twice: a message already SENT is not sent again. Each attempt is a
row in the outbound-call log (server, outcome, duration; never the message or the credentials).
The log's retention."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable
from email.message import EmailMessage as MimeMessage
from email.utils import make_msgid
from typing import Any

from flask import current_app

from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.jobs import job, periodic
from webapp.mail.models import EmailMessage
from webapp.mail.services import DELIVERY_HOLDS, forget_live_parts, live_parts, prune_log


def build_mime(message: EmailMessage, sender: str) -> MimeMessage:
    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    mime["Message-ID"] = message.message_id
    html, text = live_parts(message)  # the one-time links in clear only on the way out
    mime.set_content(text)
    mime.add_alternative(html, subtype="html")
    return mime


@job(queue="email", retries=3, backoff=(30, 120, 600))
def deliver_email(message_id: int) -> None:
    message = db.session.get(EmailMessage, message_id, with_for_update=True)
    if message is None or message.status == EmailMessage.SENT:
        return
    if any(hold(message) for hold in DELIVERY_HOLDS):
        message.status = EmailMessage.HELD
        return
    config = current_app.config
    message.attempts += 1
    message.message_id = message.message_id or make_msgid(domain="tessera.local")
    mime = build_mime(message, config["MAIL_DEFAULT_SENDER"])
    started = time.monotonic()
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(mime)
    except (OSError, smtplib.SMTPException) as error:
        _log_attempt(message, started, error)
        message.status = EmailMessage.FAILED
        message.error = f"{type(error).__name__}: {error}"[:2000]
        message.failed_at = utcnow()
        db.session.commit()  # keep the failure visible even though the job retries
        raise
    _log_attempt(message, started, None)
    message.status = EmailMessage.SENT
    forget_live_parts(message)
    message.error = None
    message.failed_at = None
    message.sent_at = utcnow()


@periodic("43 3 * * *")
@job(queue="maintenance", retries=1)
def prune_email_log() -> dict:
    """Daily: messages past ``mail.log_retention_days`` leave the e-mail log."""
    from webapp.audit import record

    pruned = prune_log()
    record(None, "maintenance.email_log_pruned", None, pruned)
    return pruned


def _smtp_code(error: Exception | None) -> int | None:
    """The server's reply code when it answered (250 on success); None when it could not be reached."""
    if error is None:
        return 250
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        return next(iter(error.recipients.values()))[0]
    return None


# Each SMTP attempt is a row of the outbound-call log (DESIGN §1), whose model is the integrations
# domain's: its ``init_app`` hands ``record_call`` over, so mail does not import integrations.
_record_call: Callable[..., Any] | None = None


def log_calls_with(recorder: Callable[..., Any]) -> None:
    global _record_call
    _record_call = recorder


def _log_attempt(message: EmailMessage, started: float, error: Exception | None) -> None:
    if _record_call is None:
        raise RuntimeError("no outbound-call log: the integrations domain sets it at start")
    config = current_app.config
    _record_call(
        organization_id=message.organization_id,
        provider="smtp",
        action="send_email",
        method="SMTP",
        endpoint=f"smtp://{config['MAIL_SERVER']}:{config['MAIL_PORT']}",
        status_code=_smtp_code(error),
        success=error is None,
        error=f"{type(error).__name__}: {error}" if error else None,
        duration_ms=int((time.monotonic() - started) * 1000),
        attempt=message.attempts,
        details={"email_id": message.id, "template": message.template},
    )
