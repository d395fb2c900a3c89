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
