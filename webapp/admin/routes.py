"""Staff pages for organizations, users, settings, the audit log, e-mails and job queues."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Response, abort, request, url_for
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import select
from wtforms import SelectChoice, SelectField

from webapp.admin import admin_nav_item, bp
from webapp.admin import services as console
from webapp.admin.forms import ActionForm, BoolSettingForm, OrgSuspendForm, SettingForm, SuspendForm, TotpResetForm
from webapp.audit.services import entity_types, entries_for, search_entries
from webapp.core.display import label
from webapp.core.errors import DomainError
from webapp.core.htmx import is_htmx, redirect, render
from webapp.core.pagination import page_arg
from webapp.core.parsing import int_or_none, parse_date, parse_int
from webapp.core.transaction import flash_then, perform
from webapp.extensions import db
from webapp.jobs import queues
from webapp.mail.models import EmailMessage
from webapp.mail.services import resend_email, search_messages
from webapp.orgs.models import Organization
from webapp.settings import define, get
from webapp.settings.registry import DEFINITIONS
from webapp.settings.services import reset_setting, settings_overview, update_setting

define("admin.page_size", int, 25, "Rows per page on the console's organization and user lists", minimum=5, maximum=200)
define("admin.audit_page_size", int, 50, "Rows per page on the audit and e-mail logs", minimum=10, maximum=500)

admin_nav_item("Organizations", "admin.orgs", 10)
admin_nav_item("Users", "admin.users", 20)
admin_nav_item("Audit log", "admin.audit", 80)
admin_nav_item("E-mails", "admin.emails", 85)
admin_nav_item("Job queues", "admin.jobs", 90)
admin_nav_item("Settings", "admin.settings", 95)

# The rendered e-mail is shown in a frame that can run nothing, submit nothing and reach nothing but
# inline styles and images; it is a different document from the console, with its own policy.
EMAIL_BODY_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data: https:; base-uri 'none'"


def _staff():
    return current_user.user


# Organizations --------------------------------------------------------------------------------


@bp.get("/orgs")
def orgs():
    query = request.args.get("q", "")
    page = console.search_organizations(query, page_arg(request.args.get("page")), get("admin.page_size"))
    return render("admin/orgs.html", block="results", page=page, q=query)


def _org_page(org, suspend_form=None, status=200):
    return render(
        "admin/org_detail.html",
        org=org,
        members=console.organization_members(org),
        entries=entries_for(organization_id=org.id, limit=20),
        suspend_form=suspend_form or OrgSuspendForm(),
        action_form=ActionForm(),
        status=status,
    )


@bp.get("/orgs/<int:org_id>")
def orgs_detail(org_id):
    return _org_page(console.get_organization(org_id))


@bp.post("/orgs/<int:org_id>/suspend")
def orgs_suspend(org_id):
    from webapp.orgs.suspension import suspend_organization

    org = console.get_organization(org_id)
    form = OrgSuspendForm()
    if not form.validate_on_submit():
        return _org_page(org, suspend_form=form, status=422)
    return perform(
        lambda: suspend_organization(org, _staff(), form.reason.data or ""),
        then=url_for("admin.orgs_detail", org_id=org.id),
        success=f"{org.name} is suspended; its owners were told by e-mail.",
        form=form,
        failed=lambda _: _org_page(org, suspend_form=form, status=422),
    )


@bp.post("/orgs/<int:org_id>/reactivate")
def orgs_reactivate(org_id):
    from webapp.orgs.suspension import reactivate_organization

    org = console.get_organization(org_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.orgs_detail", org_id=org.id))
    return perform(
        lambda: reactivate_organization(org, _staff()),
        then=url_for("admin.orgs_detail", org_id=org.id),
        success=f"{org.name} is active again; waiting work resumes.",
    )


# Users -----------------------------------------------------------------------------------------


@bp.get("/users")
def users():
    query, status = request.args.get("q", ""), request.args.get("status", "")
    page = console.search_users(query, page_arg(request.args.get("page")), get("admin.page_size"), status)
    return render("admin/users.html", block="results", page=page, q=query, state=status)


def _user_page(user, suspend_form=None, status=200, totp_form=None):
    return render(
        "admin/user_detail.html",
        user=user,
        memberships=console.user_memberships(user),
        sessions=console.user_sessions(user),
        entries=entries_for(user_id=user.id, limit=20),
        suspend_form=suspend_form or SuspendForm(),
        totp_form=totp_form or TotpResetForm(),
        action_form=ActionForm(),
        status=status,
    )


@bp.get("/users/<int:user_id>")
def users_detail(user_id):
    return _user_page(console.get_user(user_id))


@bp.post("/users/<int:user_id>/suspend")
def users_suspend(user_id):
    user = console.get_user(user_id)
    form = SuspendForm()
    if not form.validate_on_submit():
        return _user_page(user, suspend_form=form, status=422)
    return perform(
        lambda: console.suspend_user(user, _staff(), form.reason.data or ""),
        then=url_for("admin.users_detail", user_id=user.id),
        success=lambda revoked: f"{user.email} is suspended; {revoked} session(s) ended.",
        form=form,
        failed=lambda _: _user_page(user, suspend_form=form, status=422),
    )


@bp.post("/users/<int:user_id>/unsuspend")
def users_unsuspend(user_id):
    user = console.get_user(user_id)
    return perform(
        lambda: console.unsuspend_user(user, _staff()),
        then=url_for("admin.users_detail", user_id=user.id),
        success=f"{user.email} can log in again.",
    )


@bp.post("/users/<int:user_id>/totp-reset")
def users_totp_reset(user_id):
    """A lost phone and no recovery code left: staff turn the second factor off (audited, the user is e-mailed)."""
    from webapp.auth.services import staff_reset_totp

    user = console.get_user(user_id)
    form = TotpResetForm()
    if not form.validate_on_submit():
        return _user_page(user, totp_form=form, status=422)
    return perform(
        lambda: staff_reset_totp(user, _staff(), form.reason.data or ""),
        then=url_for("admin.users_detail", user_id=user.id),
        success=f"Two-factor sign-in is off for {user.email}; they were told by e-mail.",
        form=form,
        failed=lambda _: _user_page(user, totp_form=form, status=422),
    )


# System settings -------------------------------------------------------------------------------


@bp.get("/settings")
def settings():
    return render("admin/settings.html", settings=settings_overview(), action_form=ActionForm())


def _setting_form(definition, current: str):
    if definition.type is bool:
        form = BoolSettingForm(value=current == "true")
    elif definition.choices:

        class ChoiceForm(SettingForm):
            value = SelectField("Value", choices=[SelectChoice(c, label(c)) for c in definition.choices])

        form = ChoiceForm(value=current)
    else:
        form = SettingForm(value=current)
    form.value.label.text = definition.title  # the field reads as the setting, not "Value"
    form.value.description = definition.description
    return form


@bp.route("/settings/<key>", methods=["GET", "POST"])
def settings_edit(key):
    definition = DEFINITIONS.get(key) or abort(404)
    form = _setting_form(definition, definition.dump(get(key)))

    def page(_=None):
        status = 422 if form.errors or form.form_errors else 200
        return render("admin/setting_edit.html", definition=definition, form=form, status=status)

    if not form.validate_on_submit():
        return page()
    text = ("true" if form.value.data else "false") if definition.type is bool else form.value.data
    return perform(
        lambda: update_setting(key, text or "", _staff()),
        then=url_for("admin.settings"),
        success=f"{definition.title} saved.",
        form=form,
        field="value",  # the registry names the setting; on this form it is the value field
        failed=page,
    )


@bp.post("/settings/<key>/reset")
def settings_reset(key):
    if key not in DEFINITIONS:
        abort(404)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("admin.settings"))
    return perform(
        lambda: reset_setting(key, _staff()),
        then=url_for("admin.settings"),
        success=f"{DEFINITIONS[key].title} is back to its default.",
    )


# Audit log -------------------------------------------------------------------------------------


def _date(name: str, errors: dict) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return parse_date(raw)
    except ValueError as error:
        errors[name] = str(error)
        return None


def _int(name: str, errors: dict, message: str) -> int | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return parse_int(raw)
    except ValueError:
        errors[name] = message
        return None


def _organization_filter(errors: dict) -> int | None:
    raw = (request.args.get("org") or "").strip()
    if not raw:
        return None
    if int_or_none(raw) is not None:
        return int_or_none(raw)
    org_id = db.session.scalar(select(Organization.id).where(Organization.slug == raw.lower()))
    if org_id is None:
        errors["org"] = "No organization has that address."
    return org_id


@bp.get("/audit")
def audit():
    errors: dict[str, str] = {}
    since, until = _date("since", errors), _date("until", errors)
    if since and until and until < since:
        errors["until"] = "The end date is before the start date."
    filters: dict[str, Any] = {
        "actor": request.args.get("actor") or None,
        "action": request.args.get("action") or None,
        "entity_type": request.args.get("entity_type") or None,
        "entity_id": _int("entity_id", errors, "Enter the entity's numeric id."),
        "organization_id": _organization_filter(errors),
        "since": datetime.combine(since, time.min, UTC) if since else None,
        "until": datetime.combine(until + timedelta(days=1), time.min, UTC) if until else None,
    }
    before = _int("before", errors, "Bad page cursor.")
    page = None if errors else search_entries(**filters, before=before, per_page=get("admin.audit_page_size"))
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    return render(
        "admin/audit.html",
        block="results",
        page=page,
        errors=errors,
        args=args,
        entity_types=entity_types(),
        status=422 if errors else 200,
    )


# E-mail log ------------------------------------------------------------------------------------


@bp.get("/emails")
def emails():
    status = request.args.get("status", "")
    if status not in ("", EmailMessage.QUEUED, EmailMessage.HELD, EmailMessage.SENT, EmailMessage.FAILED):
        status = ""
    recipient = request.args.get("to", "")
    errors: dict[str, str] = {}
    before = _int("before", errors, "Bad page cursor.")
    page = search_messages(status=status, recipient=recipient, before=before, per_page=get("admin.audit_page_size"))
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    return render("admin/emails.html", block="results", page=page, state=status, to=recipient, args=args)


def _message(email_id: int) -> EmailMessage:
    return db.session.get(EmailMessage, email_id) or abort(404)


@bp.get("/emails/<int:email_id>")
def emails_detail(email_id):
    return render("admin/email_detail.html", message=_message(email_id), action_form=ActionForm())


@bp.get("/emails/<int:email_id>/body")
def emails_body(email_id):
    """The rendered HTML part, alone, for the sandboxed frame on the detail page."""
    response = Response(_message(email_id).html_body, mimetype="text/html")
    response.headers["Content-Security-Policy"] = EMAIL_BODY_CSP
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/emails/<int:email_id>/resend")
def emails_resend(email_id):
    message = _message(email_id)
    detail_url = url_for("admin.emails_detail", email_id=message.id)
    if not ActionForm().validate_on_submit():
        return redirect(detail_url)
    return perform(
        lambda: resend_email(message, _staff()),
        then=detail_url,
        success=f"The message to {message.to_address} is queued again.",
    )


# Job queues ------------------------------------------------------------------------------------


@bp.get("/jobs")
def jobs():
    context: dict[str, Any] = {"in_process": not queues.uses_redis(), "stats": [], "failed": [], "error": None}
    if not context["in_process"]:
        try:
            context["stats"] = queues.queue_stats()
            context["failed"] = queues.failed_jobs(request.args.get("queue") or None)
        except RedisError as error:
            context["error"] = f"Redis did not answer ({type(error).__name__})."
    return render("admin/jobs.html", block="queues", action_form=ActionForm(), **context)


def _job_action(action, queue: str, job_id: str, done: str):
    """From the page's buttons (htmx) the answer is the refreshed queue panel with the flash out of band;
    without JavaScript it is a redirect back to the page."""

    def back(_=None):
        return jobs() if is_htmx() else redirect(url_for("admin.jobs"))

    def act():
        try:
            return action(queue, job_id, _staff())
        except RedisError:
            raise DomainError("Redis did not answer; nothing was changed.") from None

    if not ActionForm().validate_on_submit():
        return back()
    return perform(act, then=back, success=done, failed=flash_then(back))


@bp.post("/jobs/<queue>/<job_id>/retry")
def jobs_retry(queue, job_id):
    if not queues.uses_redis():
        abort(404)
    return _job_action(queues.retry_failed, queue, job_id, "The job is back on its queue.")


@bp.post("/jobs/<queue>/<job_id>/delete")
def jobs_delete(queue, job_id):
    if not queues.uses_redis():
        abort(404)
    return _job_action(queues.delete_failed, queue, job_id, "The failed job was deleted.")
