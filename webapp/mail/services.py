"""``send_email`` renders both parts now, logs the message QUEUED, and delivers after commit.

One-time links (reset, verification, invitation, payment) never reach the log in clear: any link to
this site whose route takes a secret parameter (``<token>``) is stored as ``…/[redacted]``, so staff
see that such a link was sent and to whom, never the token. The live parts travel to the delivery job
encrypted on the row and are cleared once the message is sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask import current_app, render_template
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from webapp.extensions import db
from webapp.mail.models import EmailMessage
from webapp.secrets import clear_field, decrypt_required, encrypt_field, has_field
from webapp.settings import define, get

define(
    "mail.log_retention_days",
    int,
    365,
    "Days messages stay in the e-mail log (a month goes whole once its last day is that old)",
    minimum=30,
    maximum=3650,
)

# URL parameters that are bearer secrets: the token of a reset, verification, invitation or payment link.
SECRET_URL_PARAMETERS = frozenset({"token"})
REDACTED = "[redacted]"
_URL = re.compile(r"https?://[^\s\"'<>]+")


def secret_tokens(*bodies: str) -> set[str]:
    """The secret values in links to this site found in ``bodies`` (matched against the URL map)."""
    base = current_app.config["BASE_URL"]
    adapter = current_app.url_map.bind(current_app.config.get("SERVER_NAME") or "localhost")
    found: set[str] = set()
    for body in bodies:
        for url in _URL.findall(body):
            url = url.rstrip(".,;)")
            if not url.startswith(base + "/"):
                continue
            path = url[len(base) :].split("?", 1)[0].split("#", 1)[0]
            for method in ("GET", "POST"):
                try:
                    _endpoint, args = adapter.match(path, method=method)
                except RequestRedirect:
                    continue
                except HTTPException:
                    continue
                found.update(str(v) for k, v in args.items() if k in SECRET_URL_PARAMETERS and v)
                break
    return {token for token in found if len(token) >= 8}


def redact(body: str, tokens: set[str]) -> str:
    for token in sorted(tokens, key=len, reverse=True):
        body = body.replace(token, REDACTED)
    return body


def live_parts(message: EmailMessage) -> tuple[str, str]:
    """The parts to deliver: the live ones while they are kept, else the stored (redacted) ones."""
    if has_field(message, "live_body"):
        parts = json.loads(decrypt_required(message, "live_body"))
        return parts["html"], parts["text"]
    return message.html_body, message.text_body


def forget_live_parts(message: EmailMessage) -> None:
    if has_field(message, "live_body"):
        clear_field(message, "live_body")


# Whose language an e-mail is written in is the organizations domain's answer (``webapp.orgs.services.
# reader_of``, handed over by its ``init_app``), so mail reaches into neither accounts nor organizations.
_reader: Callable[[str, Any, Any], Any] | None = None


# ``hold(message) -> bool``: True keeps a message HELD instead of delivering it (organizations add
# theirs at start: a suspended organization's billing e-mails), so mail reaches into no other domain.
DELIVERY_HOLDS: list[Callable[[Any], bool]] = []


def read_by(resolver: Callable[[str, Any, Any], Any]) -> None:
    global _reader
    _reader = resolver


def reader_of(to: str, user=None, org=None):
    """The person an e-mail to ``to`` is written for (their language), or None: English."""
    return _reader(to, user, org) if _reader is not None else None


def send_email(to: str, template: str, *, subject: str, org=None, user=None, about=None, **context) -> EmailMessage:
    """``template`` names ``templates/emails/<template>.html`` and ``.txt``, e.g. ``auth/verify``.
    ``about`` is the row the message is about (an invoice, a ticket, an invitation…): the console links to it."""
    from webapp.core.i18n import for_user
    from webapp.mail.jobs import deliver_email

    with for_user(reader_of(to, user, org)):
        subject = str(subject)  # a lazy subject ("Invoice %(number)s …") reads in the recipient's language
        context = {"subject": subject, **context}
        html = render_template(f"emails/{template}.html", **context)
        text = render_template(f"emails/{template}.txt", **context)
    tokens = secret_tokens(html, text)
    message = EmailMessage(
        organization_id=getattr(org, "id", org),
        user_id=getattr(user, "id", user),
        to_address=to,
        subject=redact(subject, tokens),
        template=template,
        html_body=redact(html, tokens),
        text_body=redact(text, tokens),
        about_type=type(about).__name__ if about is not None else None,
        about_id=getattr(about, "id", None),
    )
    db.session.add(message)
    db.session.flush()
    if tokens:
        encrypt_field(message, "live_body", json.dumps({"html": html, "text": text}))
    deliver_email.delay(message.id)
    return message


def about_link(message: EmailMessage) -> dict | None:
    """What the message was about, for the console: {label, url}; url is None where staff have no page."""
    from webapp.core.display import entity_url

    if not message.about_type:
        return None
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", message.about_type).lower().capitalize()
    return {
        "label": f"{words} #{message.about_id}",
        "url": entity_url(message.about_type, message.about_id, message.organization_id),
    }


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
    message.failed_at = None
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


def prune_log(now=None) -> dict:
    """Retention of the e-mail log: messages older than ``mail.log_retention_days`` go (on PostgreSQL
    by whole months, their partitions dropped). Returns ``{"deleted", "partitions", "older_than_days"}``."""
    from datetime import timedelta

    from webapp.core.models import utcnow
    from webapp.core.partitions import prune_before

    days = get("mail.log_retention_days")
    return {**prune_before(EmailMessage, (now or utcnow()) - timedelta(days=days)), "older_than_days": days}
