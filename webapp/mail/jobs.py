"""Delivery over SMTP (safe to run twice: a message already SENT is not sent again); the log's retention."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage as MimeMessage
from email.utils import make_msgid

from flask import current_app

from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.jobs import job, periodic
from webapp.mail.models import EmailMessage
from webapp.mail.services import forget_live_parts, live_parts, prune_log


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
    config = current_app.config
    message.attempts += 1
    message.message_id = message.message_id or make_msgid(domain="tessera.local")
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT"]) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(build_mime(message, config["MAIL_DEFAULT_SENDER"]))
    except (OSError, smtplib.SMTPException) as error:
        message.status = EmailMessage.FAILED
        message.error = f"{type(error).__name__}: {error}"[:2000]
        message.failed_at = utcnow()
        db.session.commit()  # keep the failure visible even though the job retries
        raise
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
