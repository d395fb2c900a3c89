"""``send_email`` renders both parts now, logs the message QUEUED, and delivers after commit."""

from __future__ import annotations

from flask import render_template

from webapp.extensions import db
from webapp.mail.models import EmailMessage


def send_email(to: str, template: str, *, subject: str, org=None, user=None, **context) -> EmailMessage:
    """``template`` names ``templates/emails/<template>.html`` and ``.txt``, e.g. ``auth/verify``."""
    from webapp.mail.jobs import deliver_email

    context = {"subject": subject, **context}
    message = EmailMessage(
        organization_id=getattr(org, "id", org),
        user_id=getattr(user, "id", user),
        to_address=to,
        subject=subject,
        template=template,
        html_body=render_template(f"emails/{template}.html", **context),
        text_body=render_template(f"emails/{template}.txt", **context),
    )
    db.session.add(message)
    db.session.flush()
    deliver_email.delay(message.id)
    return message


def resend_email(message: EmailMessage, actor) -> EmailMessage:
    """Queue a FAILED message again (the same rendered body); the delivery job runs after the commit."""
    from webapp.audit import record
    from webapp.core.errors import Conflict
    from webapp.mail.jobs import deliver_email

    if message.status != EmailMessage.FAILED:
        raise Conflict("Only a message that failed can be sent again.", code="email_not_failed")
    previous_error = message.error
    message.status = EmailMessage.QUEUED
    message.error = None
    record(actor, "email.resent", message, {"to": message.to_address, "previous_error": previous_error})
    deliver_email.delay(message.id)
    return message


def search_messages(*, status: str | None = None, recipient: str | None = None, before: int | None = None, per_page=50):
    """The e-mail log, newest first, keyset-paginated by id (``ix_email_messages_status_id`` serves the filter)."""
    from sqlalchemy import func, or_, select

    from webapp.core.pagination import keyset

    stmt = select(EmailMessage)
    if status:
        stmt = stmt.where(EmailMessage.status == status)
    recipient = (recipient or "").strip()
    if "@" in recipient and "." in recipient.split("@")[-1]:
        # a whole address: an index lookup (addresses are stored as sent; users' are lowercase)
        stmt = stmt.where(or_(EmailMessage.to_address == recipient, EmailMessage.to_address == recipient.lower()))
    elif recipient:
        stmt = stmt.where(func.lower(EmailMessage.to_address).contains(recipient.lower(), autoescape=True))
    return keyset(stmt, EmailMessage.id, before, per_page)
