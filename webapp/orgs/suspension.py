"""Staff suspension of an organization (seed 001 staff control), and its reactivation.

While an organization is suspended its members see a page that says so, its API keys are refused with
``organization_suspended``, and its background work waits: each claimer leaves its rows out
(``suspended_ids()``) and each single-item job checks ``is_suspended`` first, so nothing is failed —
the rows stay due and the next run after reactivation takes them. Staff still open it in the console.

This module is the one place that says what a suspension pauses: ``PAUSED_JOBS`` and
``RUNS_WHILE_SUSPENDED`` name every periodic job (a test fails when a new one is in neither), the
e-mails a suspended organization is not sent are ``HELD_EMAILS`` (held at delivery, released on
reactivation), and ``resume_waiting_work`` hands back what waited.

Invoicing follows Stripe's paused collection: a suspended organization is not invoiced while paused.
The billing run leaves it out and says so in its report ("suspended"), subscriptions do not renew,
dunning neither reminds nor marks overdue, nothing is charged. On reactivation a subscription whose
period ended meanwhile starts its next period then (the paused time is not billed); a billing-run
period that was skipped stays unbilled unless staff start that period's run again (it bills only
what no invoice billed yet).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app, url_for
from flask_babel import lazy_gettext
from sqlalchemy import exists, select

from webapp.audit import record
from webapp.core.access import OWNER
from webapp.core.errors import Conflict, DomainError
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.orgs.models import Membership, Organization

log = logging.getLogger(__name__)
MAX_REASON = 500


# Periodic jobs that leave a suspended organization's work out, and where they do it.
PAUSED_JOBS = {
    "webapp.billing.jobs.monthly_billing_run": "billing run: the organization is skipped, reported as suspended",
    "webapp.billing.jobs.daily_dunning": "no reminder, no overdue mark, no suspension for non-payment",
    "webapp.billing.payment_jobs.collect_due_invoices": "no automatic charge (the invoice stays due)",
    "webapp.billing.payment_jobs.card_expiry_notices": "the notice is held with the other billing e-mails",
    "webapp.subscriptions.jobs.renew_subscriptions": "no renewal invoice; the period restarts on reactivation",
    "webapp.developers.jobs.wake_due_webhooks": "deliveries wait, pending",
    "webapp.workflows.jobs.dispatch_workflows": "no scheduled run; queued runs wait",
    "webapp.integrations.jobs.dispatch_scheduled_syncs": "no scheduled sync; queued syncs wait",
    "webapp.studio.jobs.claim_due_targets": "targets wait (neither published nor missed)",
    "webapp.studio.jobs.sync_engagement": "no platform calls for its posts' figures",
    "webapp.notifications.jobs.send_daily_digests": "its notifications wait out of digests; not charged to it",
}
# Periodic jobs that still run for a suspended organization, and why.
RUNS_WHILE_SUSPENDED = {
    "webapp.jobs.lease.sweep_expired_leases": "housekeeping of work already started",
    "webapp.jobs.outbox.relay_outbox": "moves queued jobs; each job checks the suspension itself",
    "webapp.jobs.outbox.prune_outbox": "retention",
    "webapp.jobs.partitions.maintain_partitions": "retention",
    "webapp.files.jobs.delete_expired_temporary_files": "retention",
    "webapp.files.jobs.recalculate_storage_usage": "a figure staff read; acts on nothing outside",
    "webapp.notifications.jobs.close_silent_sessions": "housekeeping",
    "webapp.billing.payment_jobs.poll_pending_payments": "settles a payment the customer already started",
    "webapp.developers.jobs.prune_old_events": "retention",
    "webapp.support.jobs.close_resolved_tickets": "support goes on during a suspension",
    "webapp.alerts.jobs.scan_for_alerts": "staff's own monitoring",
    "webapp.workflows.jobs.prune_workflow_runs": "retention",
    "webapp.ai.jobs.reset_ai_credit_periods": "a grant's period turns with the calendar; nothing is charged",
    "webapp.referrals.jobs.purge_click_tracking": "privacy retention",
    "webapp.referrals.jobs.expire_unanswered_invitations": "frees an address; no message, no charge",
    "webapp.mail.jobs.prune_email_log": "retention",
    "webapp.subscriptions.jobs.expire_trials": "a trial ends with the calendar; nothing is invoiced",
    "webapp.usage.jobs.refresh_usage_records": "a figure; the billing run decides what is invoiced",
    "webapp.usage.jobs.prune_usage_events": "retention",
    "webapp.api.jobs.flush_api_key_last_used": "bookkeeping (its keys are refused anyway)",
    "webapp.integrations.jobs.expire_drive_caches": "removes copies past their time",
    "webapp.integrations.jobs.refresh_expiring_connections": "keeps its connections alive for reactivation",
    "webapp.integrations.jobs.prune_outbound_calls": "retention",
    "webapp.integrations.jobs.expire_connections": "marks connections the provider already expired",
    "webapp.integrations.jobs.prune_sync_jobs": "retention",
    "webapp.studio.jobs.prune_studio_history": "retention",
    "webapp.studio.jobs.backfill_video_thumbnails": "local files only",
    "webapp.studio.jobs.refresh_instagram_tokens": "keeps its connections alive for reactivation",
}
# E-mails a suspended organization is not sent: held at delivery (status HELD in the e-mail log) and
# released on reactivation. Its owners' suspension notice, receipts and credit notes for money already
# moved, support replies, invitations and sign-in mail still go out (the digest leaves it out itself).
HELD_EMAILS = frozenset(
    {
        "billing/issued",
        "billing/reminder",
        "billing/overdue",
        "billing/collection_failed",
        "billing/card_expiring",
        "billing/suspended",
        "notifications/notification",  # e.g. "Invoice … was issued" for a held invoice
    }
)


def suspended_ids():
    """The ids of suspended organizations, as a subquery for ``.not_in(...)`` in the job claimers."""
    return select(Organization.id).where(Organization.suspended_at.is_not(None))


def is_suspended(org_id: int | None) -> bool:
    if org_id is None:
        return False
    return bool(
        db.session.scalar(select(exists().where(Organization.id == org_id, Organization.suspended_at.is_not(None))))
    )


def skip_if_suspended(org_id: int | None, what: str) -> bool:
    """For a job about to work for an organization: True (and a log line saying why) when it must wait."""
    if not is_suspended(org_id):
        return False
    log.info("paused: %s waits because organization %s is suspended", what, org_id)
    return True


def holds_email(message) -> bool:
    """For the delivery job: True (and a log line) when the message must wait for reactivation. The
    organization's row is read FOR SHARE, so a reactivation in flight (FOR UPDATE) is waited for: a
    message is never set HELD after the reactivation released the held ones."""
    if message.template not in HELD_EMAILS or message.organization_id is None:
        return False
    suspended_at = db.session.scalar(
        select(Organization.suspended_at).where(Organization.id == message.organization_id).with_for_update(read=True)
    )
    if suspended_at is None:
        return False
    log.info(
        "paused: e-mail %s (%s) is held, organization %s is suspended",
        message.id,
        message.template,
        message.organization_id,
    )
    return True


def _owners(org: Organization) -> list:
    rows = db.session.scalars(
        select(Membership).where(Membership.organization_id == org.id, Membership.role == OWNER)
    ).all()
    return [m.user for m in rows]


def _tell_owners(org: Organization, template: str, subject: str, **context) -> None:
    from webapp.mail import send_email

    for owner in _owners(org):
        send_email(
            owner.email,
            template,
            subject=subject,
            org=org,
            user=owner,
            about=org,
            name=owner.display_name,
            org_name=org.name,
            support_email=current_app.config.get("MAIL_DEFAULT_SENDER", ""),
            **context,
        )


# Filled at start by the domains that keep work or caches for an organization (``add_once``):
# called when a suspension starts or ends (the API forgets its cached keys), and on reactivation to hand
# waiting work back to its jobs (each returns its counts: ``{"syncs": 2}``).
SUSPENSION_CHANGED_HOOKS: list[Callable[[Organization], None]] = []
RESUME_HOOKS: list[Callable[[Organization], dict[str, int]]] = []


def _suspension_changed(org: Organization) -> None:
    for hook in SUSPENSION_CHANGED_HOOKS:
        hook(org)


def suspend_organization(org: Organization, staff, reason: str) -> Organization:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the organization is suspended.", field="reason", code="reason_required")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Keep the reason under {MAX_REASON} characters.", field="reason")
    db.session.refresh(org, with_for_update=True)  # two presses, two staff members: one suspension
    if org.deleted_at is not None:
        raise Conflict("This organization is deleted.", code="organization_deleted")
    if org.is_suspended:
        raise Conflict("This organization is already suspended.", code="already_suspended")
    org.suspended_at = utcnow()
    org.suspended_reason = reason
    org.suspended_by_id = staff.id
    record(staff, "organization.suspended", org, {"reason": reason})
    _tell_owners(org, "orgs/suspended", lazy_gettext("%(org)s is suspended on Tessera", org=org.name), reason=reason)
    _suspension_changed(org)
    return org


def reactivate_organization(org: Organization, staff) -> dict:
    """Lift the suspension; work that waited is handed back to its jobs. Returns what was resumed."""
    db.session.refresh(org, with_for_update=True)
    if not org.is_suspended:
        raise Conflict("This organization is not suspended.", code="not_suspended")
    since = org.suspended_at
    org.suspended_at = None
    org.suspended_reason = None
    org.suspended_by_id = None
    resumed = resume_waiting_work(org)
    record(
        staff,
        "organization.reactivated",
        org,
        {"suspended_since": since.isoformat() if since else None, "resumed": resumed},
    )
    link = current_app.config["BASE_URL"] + url_for("orgs.dashboard", slug=org.slug)
    _tell_owners(org, "orgs/reactivated", lazy_gettext("%(org)s is active again on Tessera", org=org.name), link=link)
    _suspension_changed(org)
    return resumed


def resume_waiting_work(org: Organization) -> dict:
    """Work with a job of its own is handed back now: held e-mails here (mail sits below this domain),
    the rest by each domain's hook in ``RESUME_HOOKS`` (syncs started before the suspension, publish
    targets whose time passed meanwhile, a subscription whose period ended meanwhile starting its next
    one now); what is left is picked up by the periodic claimers."""
    from sqlalchemy import update

    from webapp.mail.jobs import deliver_email
    from webapp.mail.models import EmailMessage

    held = db.session.scalars(
        select(EmailMessage.id).where(EmailMessage.organization_id == org.id, EmailMessage.status == EmailMessage.HELD)
    ).all()
    if held:
        db.session.execute(
            update(EmailMessage)
            .where(EmailMessage.id.in_(held), EmailMessage.status == EmailMessage.HELD)
            .values(status=EmailMessage.QUEUED)
            .execution_options(synchronize_session=False)
        )
        for message_id in held:
            deliver_email.delay(message_id)
    resumed: dict[str, int] = {"emails": len(held)}
    for hook in RESUME_HOOKS:
        for what, count in hook(org).items():
            resumed[what] = resumed.get(what, 0) + count
    return resumed
