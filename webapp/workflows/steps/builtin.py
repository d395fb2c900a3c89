"""The built-in step types. Cross-domain steps import the other domain inside ``execute`` and use only
its documented service functions."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import Form, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

import webapp.core.outbound  # noqa: F401  (defines the outbound.* settings)
from webapp.core.access import ADMIN, BILLING, MEMBER, OWNER
from webapp.core.models import utcnow
from webapp.core.parsing import int_or_none
from webapp.core.terms import N_
from webapp.workflows.steps import StepContext, StepFailed, StepType, StopRun, WaitUntil, opts, register
from webapp.workflows.templating import check_expression, check_syntax

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
PRIORITIES = [("LOW", _l("Low")), ("NORMAL", _l("Normal")), ("HIGH", _l("High")), ("URGENT", _l("Urgent"))]
PLATFORMS = [("tiktok", "TikTok"), ("instagram", "Instagram"), ("youtube", "YouTube")]
ROLES = [(OWNER, _l("Owners")), (ADMIN, _l("Admins")), (MEMBER, _l("Members")), (BILLING, _l("Billing"))]


def template_syntax(form, field):
    problem = check_syntax(field.data or "")
    if problem:
        raise ValidationError(problem)


def http_url(form, field):
    value = (field.data or "").strip()
    if not (value.startswith(("http://", "https://")) or value.startswith("{{")):
        raise ValidationError("Start the address with https:// (or http://).")


def header_lines(form, field):
    for number, line in enumerate((field.data or "").splitlines(), 1):
        if line.strip() and ":" not in line:
            raise ValidationError(f"Line {number}: write headers as Name: value, one per line.")


def json_template(form, field):
    text = (field.data or "").strip()
    if not text:
        return
    template_syntax(form, field)
    if "{{" not in text and "{%" not in text:
        try:
            json.loads(text)
        except json.JSONDecodeError as invalid:
            raise ValidationError(f"The body is not valid JSON ({invalid.msg}).") from None


def credential_field():
    return SelectField(
        _l("Credential"), coerce=int, choices=opts([(0, _l("— none —"))]), default=0, validate_choice=True
    )


def _parse_headers(text: str) -> dict[str, str]:
    headers = {}
    for line in (text or "").splitlines():
        if ":" in line:
            name, value = line.split(":", 1)
            if name.strip():
                headers[name.strip()] = value.strip()
    return headers


def _excerpt_body(content: bytes):
    text = content.decode(errors="replace")
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text[:4000]


class HttpRequestForm(Form):
    method = SelectField(_l("Method"), choices=opts((m, m) for m in METHODS), default="POST")
    url = StringField(_l("URL"), validators=[DataRequired(), Length(max=2000), http_url, template_syntax])
    headers = TextAreaField(
        _l("Headers"),
        validators=[Optional(), Length(max=4000), header_lines, template_syntax],
        description=_l("One per line: Name: value. {{ placeholders }} allowed."),
    )
    body = TextAreaField(
        _l("JSON body"),
        validators=[Optional(), Length(max=20000), json_template],
        description=_l('e.g. {"text": {{ trigger.title | json }}}'),
    )
    timeout_seconds = IntegerField(
        _l("Timeout (seconds)"),
        validators=[Optional(), NumberRange(1, 120)],
        description=_l("Empty: the organization's default."),
    )
    retries = IntegerField(
        _l("Retries after a failure"),
        validators=[Optional(), NumberRange(0, 5)],
        description=_l("Asked again after a network error, a timeout or a 5xx/429 answer (empty: none)."),
    )
    credential_id = credential_field()


@register
class HttpRequest(StepType):
    type = "http_request"
    label = N_("HTTP request")
    description = N_("Call any HTTP endpoint, optionally with a stored credential.")
    form = HttpRequestForm
    uses_credential = True
    credential_kinds = ("api_key_header", "bearer", "basic", "oauth_connection")

    @classmethod
    def summary(cls, config):
        return f"{config.get('method', 'POST')} {config.get('url', '')}"

    @classmethod
    def repeatable(cls, config):
        """GET and HEAD are safe methods (RFC 9110): asking twice changes nothing at the other end."""
        return (config.get("method") or "POST").upper() in ("GET", "HEAD")

    @classmethod
    def execute(cls, ctx: StepContext, config: dict, step) -> dict:
        from webapp.core.outbound import OutboundFailed, OutboundRefused, fetch
        from webapp.settings import get

        method = config.get("method") or "POST"
        url = ctx.render(config.get("url", "")).strip()
        if not url.startswith(("http://", "https://")):
            raise StepFailed("The URL must start with http:// or https:// after filling placeholders.")
        headers = {k: ctx.render(v) for k, v in _parse_headers(config.get("headers", "")).items()}
        content = None
        body = ctx.render(config.get("body") or "").strip()
        if body and method != "GET":
            try:
                content = json.dumps(json.loads(body)).encode()
            except json.JSONDecodeError as invalid:
                raise StepFailed(f"The body is not valid JSON after filling placeholders ({invalid.msg}).") from None
            headers.setdefault("Content-Type", "application/json")
        credential = step.credential if step is not None else None
        if credential is not None:
            headers.update(credential_headers(ctx, credential))
        timeout = float(config.get("timeout_seconds") or get("workflows.http_timeout_seconds"))
        attempts = 1 + max(0, min(int(config.get("retries") or 0), 5))
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            response, error, transient = None, None, False
            try:
                response = fetch(method, url, headers=headers, content=content, timeout=timeout)
                if not response.status_code < 400:
                    error = f"workflow_http answered {response.status_code}"
                    transient = response.status_code >= 500 or response.status_code == 429
            except OutboundRefused as problem:
                error = str(problem)
            except OutboundFailed as problem:
                error, transient = str(problem), True
            _log_call(ctx, method, url, response, error, int((time.monotonic() - started) * 1000), attempt)
            if error is None or not transient:
                break
        if credential is not None:
            ctx.credential_uses.append((credential.id, error is None))
        if error is not None:
            raise StepFailed(error)
        if response is None:  # no error: the last attempt was answered
            raise StepFailed("workflow_http got no answer")
        return {"status": response.status_code, "body": _excerpt_body(response.content)}


def _log_call(
    ctx: StepContext, method: str, url: str, response, error: str | None, duration_ms: int, attempt: int = 1
) -> None:
    """One row in the staff call log per HTTP step, in its own transaction (it survives a rollback)."""
    from urllib.parse import urlsplit

    from webapp.integrations.call_log import record_call

    parts = urlsplit(url)
    record_call(
        organization_id=ctx.org.id,
        provider="workflow_http",
        action="step_http_request",
        method=method,
        endpoint=f"{parts.scheme}://{parts.netloc}{parts.path}",
        status_code=response.status_code if response is not None else None,
        success=error is None,
        error=error,
        duration_ms=duration_ms,
        attempt=attempt,
        details={"workflow_id": ctx.workflow.id, "run_id": ctx.run.id, "step": ctx.position},
    )


def credential_headers(ctx: StepContext, credential) -> dict[str, str]:
    """The header a credential becomes; the secret joins ``ctx.secrets`` so it is scrubbed from every log."""
    from webapp.secrets import DecryptionError, decrypt_field

    if credential.revoked_at is not None:
        raise StepFailed(f"The credential “{credential.name}” was deleted.")
    if credential.kind == "oauth_connection":
        from webapp.workflows.bridges import connection_token

        token = connection_token(credential)
        ctx.secrets.append(token)
        return {"Authorization": f"Bearer {token}"}
    try:
        secret = decrypt_field(credential, "secret") or ""
    except DecryptionError:
        raise StepFailed(f"The credential “{credential.name}” cannot be read; save it again.") from None
    ctx.secrets.append(secret)
    if credential.kind == "bearer":
        return {"Authorization": f"Bearer {secret}"}
    if credential.kind == "basic":
        pair = base64.b64encode(f"{credential.username or ''}:{secret}".encode()).decode()
        ctx.secrets.append(pair)
        return {"Authorization": f"Basic {pair}"}
    return {credential.header_name or "X-API-Key": secret}


class SendEmailForm(Form):
    to = StringField(
        _l("To"),
        validators=[DataRequired(), Length(max=1000), template_syntax],
        description=_l("Comma-separated addresses; placeholders allowed."),
    )
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200), template_syntax])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=20000), template_syntax])


@register
class SendEmail(StepType):
    type = "send_email"
    label = N_("Send e-mail")
    description = N_("Send a plain message to one or more addresses.")
    form = SendEmailForm
    contained = True

    @classmethod
    def summary(cls, config):
        return gettext("to %(addresses)s", addresses=config.get("to", ""))

    @classmethod
    def execute(cls, ctx, config, step):
        from webapp.mail import send_email

        recipients = [a.strip() for a in ctx.render(config["to"]).split(",") if a.strip()]
        if not recipients:
            raise StepFailed("No recipient after filling placeholders.")
        if len(recipients) > 20:
            raise StepFailed("At most 20 recipients per step.")
        bad = [a for a in recipients if "@" not in a or " " in a]
        if bad:
            raise StepFailed(f"Not an e-mail address: {bad[0][:80]}")
        subject = ctx.render(config["subject"])[:200]
        body = ctx.render(config["body"])
        ids = []
        for address in recipients:
            message = send_email(
                address,
                "workflows/message",
                subject=subject,
                org=ctx.org,
                about=ctx.run,
                body=body,
                workflow_name=ctx.workflow.name,
            )
            ids.append(message.id)
        return {"sent": len(ids), "email_ids": ids}


class NotifyForm(Form):
    roles = SelectMultipleField(_l("Who"), choices=opts(ROLES), default=[OWNER, ADMIN], validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200), template_syntax])
    message = TextAreaField(_l("Message"), validators=[Optional(), Length(max=4000), template_syntax])
    link = StringField(_l("Link"), validators=[Optional(), Length(max=500), template_syntax])


@register
class NotifyMembers(StepType):
    type = "notify_members"
    label = N_("Notify members")
    description = N_("An in-app notification (or e-mail, as each member prefers) to members by role.")
    form = NotifyForm

    @classmethod
    def summary(cls, config):
        names = dict(ROLES)
        return ", ".join(str(names.get(r, r.title())) for r in config.get("roles") or [])

    @classmethod
    def execute(cls, ctx, config, step):
        from sqlalchemy import select

        from webapp.extensions import db
        from webapp.notifications import notify
        from webapp.orgs.models import Membership

        roles = list(config.get("roles") or [])
        members = db.session.scalars(
            select(Membership).where(Membership.organization_id == ctx.org.id, Membership.role.in_(roles))
        ).all()
        users = [m.user for m in members]
        if not users:
            return {"notified": 0}
        link = ctx.render(config.get("link") or "") or None
        rows = notify(
            users,
            "workflow.notice",
            ctx.render(config["title"]),
            ctx.render(config.get("message") or ""),
            link=link,
            org=ctx.org,
        )
        return {"notified": len(users), "in_app": len(rows)}


class TicketForm(Form):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200), template_syntax])
    description = TextAreaField(_l("Description"), validators=[DataRequired(), Length(max=10000), template_syntax])
    priority = SelectField(_l("Priority"), choices=opts(PRIORITIES), default="NORMAL")


@register
class CreateTicket(StepType):
    type = "create_ticket"
    label = N_("Create support ticket")
    description = N_("Open a support ticket for this organization.")
    form = TicketForm

    @classmethod
    def summary(cls, config):
        return config.get("subject", "")

    @classmethod
    def execute(cls, ctx, config, step):
        from webapp.workflows.bridges import open_support_ticket

        ticket_id = open_support_ticket(
            ctx.org, ctx.workflow, ctx.render(config["subject"]), ctx.render(config["description"]), config["priority"]
        )
        return {"ticket_id": ticket_id}


class SchedulePostForm(Form):
    video_id = StringField(
        _l("Video"),
        validators=[DataRequired(), Length(max=200), template_syntax],
        default="{{ trigger.video_id }}",
        description=_l("A video id, usually {{ trigger.video_id }}."),
    )
    platforms = SelectMultipleField(_l("Platforms"), choices=opts(PLATFORMS), validators=[DataRequired()])
    caption = TextAreaField(_l("Caption"), validators=[Optional(), Length(max=2200), template_syntax])
    hashtags = StringField(_l("Hashtags"), validators=[Optional(), Length(max=500), template_syntax])
    delay_minutes = IntegerField(
        _l("Publish after (minutes)"), default=0, validators=[Optional(), NumberRange(0, 43200)]
    )


@register
class SchedulePost(StepType):
    type = "schedule_post"
    label = N_("Schedule a post for a video")
    description = N_("Schedule the video on the chosen platforms (studio).")
    form = SchedulePostForm

    @classmethod
    def summary(cls, config):
        return ", ".join(config.get("platforms") or [])

    @classmethod
    def execute(cls, ctx, config, step):
        from webapp.workflows.bridges import schedule_video_posts

        raw = ctx.render(config["video_id"]).strip()
        if int_or_none(raw) is None:
            raise StepFailed(f"“{raw[:40]}” is not a video id.")
        when = utcnow() + timedelta(minutes=int(config.get("delay_minutes") or 0))
        post_ids = schedule_video_posts(
            ctx.org,
            ctx.workflow,
            int(raw),
            list(config.get("platforms") or []),
            ctx.render(config.get("caption") or ""),
            ctx.render(config.get("hashtags") or ""),
            when,
        )
        return {"post_ids": post_ids, "scheduled_for": when.isoformat()}


def amount_text(form, field):
    from webapp.core.money import parse_amount

    try:
        cents = parse_amount(field.data or "")
    except ValueError as error:
        raise ValidationError(str(error)) from None
    if cents <= 0:
        raise ValidationError("Enter an amount above zero.")


class InvoiceLineForm(Form):
    description = StringField(_l("Line description"), validators=[DataRequired(), Length(max=255), template_syntax])
    amount = StringField(_l("Amount"), validators=[DataRequired(), amount_text], description=_l("e.g. 25.00"))
    currency = SelectField(
        _l("Currency"), choices=opts([("USD", "USD"), ("ZWG", "ZWG"), ("JPY", "JPY")]), default="USD"
    )


@register
class AddInvoiceLine(StepType):
    type = "invoice_line"
    label = N_("Add a line to the next invoice")
    description = N_("Propose a charge on the next invoice; staff approve it before billing sees it.")
    form = InvoiceLineForm
    contained = True

    @classmethod
    def summary(cls, config):
        return f"{config.get('currency', 'USD')} {config.get('amount', '')} · {config.get('description', '')}"

    @classmethod
    def execute(cls, ctx, config, step):
        from sqlalchemy import insert

        from webapp.core.money import parse_amount
        from webapp.extensions import db
        from webapp.workflows.models import PendingInvoiceLine

        values = {
            "organization_id": ctx.org.id,
            "workflow_id": ctx.workflow.id,
            "run_id": ctx.run.id,
            "description": ctx.render(config["description"])[:255],
            "amount_cents": parse_amount(config["amount"]),
            "currency": config.get("currency") or "USD",
        }
        # The line alone, for its id: the run's log waits in the session for the runner's commit point.
        with db.session.no_autoflush:
            line = db.session.scalars(insert(PendingInvoiceLine).returning(PendingInvoiceLine), [values]).one()
        return {"pending_line_id": line.id, "status": line.status}


class WaitForm(Form):
    minutes = IntegerField(_l("Wait (minutes)"), default=5, validators=[DataRequired(), NumberRange(1, 10080)])


@register
class Wait(StepType):
    type = "wait"
    label = N_("Wait")
    description = N_("Pause the run, then continue with the next step.")
    form = WaitForm
    contained = True

    @classmethod
    def summary(cls, config):
        return gettext("%(minutes)s min", minutes=config.get("minutes"))

    @classmethod
    def repeatable(cls, config):
        return True

    @classmethod
    def execute(cls, ctx, config, step):
        raise WaitUntil(utcnow() + timedelta(minutes=int(config["minutes"])))


def expression_syntax(form, field):
    problem = check_expression(field.data or "")
    if problem:
        raise ValidationError(problem)


class ConditionForm(Form):
    expression = StringField(
        _l("Continue only if"),
        validators=[DataRequired(), Length(max=1000), expression_syntax],
        description=_l("e.g. trigger.amount_due > 10000 or step1.status == 200"),
    )


@register
class Condition(StepType):
    type = "condition"
    label = N_("Condition")
    description = N_("Stop the run here unless an expression holds.")
    form = ConditionForm
    contained = True

    @classmethod
    def summary(cls, config):
        return config.get("expression", "")

    @classmethod
    def repeatable(cls, config):
        return True

    @classmethod
    def execute(cls, ctx, config, step):
        from webapp.workflows.templating import TemplateProblem, evaluate

        try:
            holds = evaluate(config["expression"], ctx.scope)
        except TemplateProblem as problem:
            raise StepFailed(str(problem)) from None
        if not holds:
            raise StopRun(f"Condition did not hold: {config['expression']}")
        return {"holds": True}
