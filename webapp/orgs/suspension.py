"""Staff suspension of an organization (seed 001 staff control), and its reactivation.

While an organization is suspended its members see a page that says so, its API keys are refused with
``organization_suspended``, and its background work waits: each claimer leaves its rows out
(``suspended_ids()``) and each single-item job checks ``is_suspended`` first, so nothing is failed —
the rows stay due and the next run after reactivation takes them. Staff still open it in the console.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app, url_for
from sqlalchemy import exists, select

from webapp.audit import record
from webapp.core.access import OWNER
from webapp.core.errors import Conflict, DomainError
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.orgs.models import Membership, Organization

log = logging.getLogger(__name__)
MAX_REASON = 500


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
    _tell_owners(org, "orgs/suspended", f"{org.name} is suspended on Tessera", reason=reason)
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
    _tell_owners(org, "orgs/reactivated", f"{org.name} is active again on Tessera", link=link)
    _suspension_changed(org)
    return resumed


def resume_waiting_work(org: Organization) -> dict:
    """Work with a job of its own (a sync started before the suspension, a publish target whose time
    passed meanwhile) is re-queued or re-scheduled now by its domain; the rest is picked up by the
    periodic claimers."""
    resumed: dict[str, int] = {}
    for hook in RESUME_HOOKS:
        for what, count in hook(org).items():
            resumed[what] = resumed.get(what, 0) + count
    return resumed
