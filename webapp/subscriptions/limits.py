"""Plan limits where they bite: the checker registered with ``webapp.core.limits`` and the helpers
other domains read (``plan_limit(org, name)``, ``current_usage(org, name)``).

Files and AI report their own usage with ``usage_provider("storage_mb")(func)``; members and
pending invitations count toward ``users``; API calls are counted per calendar month by the API.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import has_request_context, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, select

from webapp.core import limits
from webapp.core.errors import LimitExceeded
from webapp.core.events import emit
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.subscriptions.models import LIMIT_LABELS, LIMITS
from webapp.subscriptions.services import plan_limit

USAGE_PROVIDERS: dict[str, Callable] = {}


def usage_provider(name: str):
    """Register ``func(org) -> int`` as the current usage of ``name`` (storage_mb, ai_credits)."""

    def decorator(func: Callable) -> Callable:
        USAGE_PROVIDERS[name] = func
        return func

    return decorator


ALLOWANCE_PROVIDERS: dict[str, Callable] = {}
USAGE_READINGS: dict[str, Callable] = {}


def usage_reading(name: str):
    """Register ``func(org) -> str``: the usage of ``name`` as the owning domain shows it (storage: the
    exact size the files page shows, not the MB rounded up for the limit check)."""

    def decorator(func: Callable) -> Callable:
        USAGE_READINGS[name] = func
        return func

    return decorator


def current_reading(org, name: str) -> str | None:
    return USAGE_READINGS[name](org) if name in USAGE_READINGS else None


def allowance_provider(name: str):
    """Register ``func(org) -> int | None`` as the allowance in force for ``name`` when its domain keeps
    one of its own (AI: this period's grant, fixed when the period began); None = the plan's limit."""

    def decorator(func: Callable) -> Callable:
        ALLOWANCE_PROVIDERS[name] = func
        return func

    return decorator


def current_allowance(org, name: str, plan_value: int | None) -> int | None:
    """What the plan page shows as the limit: the domain's own allowance where it keeps one, else the plan's."""
    if plan_value is not None and name in ALLOWANCE_PROVIDERS:
        own = ALLOWANCE_PROVIDERS[name](org)
        if own is not None:
            return int(own)
    return plan_value


def _users(org) -> int:
    from webapp.orgs.models import Invitation, Membership

    members = db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.organization_id == org.id)
    )
    pending = (
        select(func.count())
        .select_from(Invitation)
        .where(
            Invitation.organization_id == org.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    )
    if has_request_context() and current_user.is_authenticated:
        # The person accepting an invitation is the one being added: do not count them twice.
        pending = pending.where(func.lower(Invitation.email) != current_user.email.lower())
    return (members or 0) + (db.session.scalar(pending) or 0)


def _api_calls(org) -> int:
    from webapp.api.ratelimit import api_calls_this_month

    return api_calls_this_month(org.id)


def current_usage(org, name: str) -> int:
    if name not in LIMITS:
        raise ValueError(f"unknown limit {name!r}")
    if name in USAGE_PROVIDERS:
        return int(USAGE_PROVIDERS[name](org) or 0)
    if name == "users":
        return _users(org)
    if name == "api_calls":
        return _api_calls(org)
    return 0


def limit_message(org, name: str, limit: int) -> Markup:
    link = f"/o/{org.slug}/subscription"
    if has_request_context():
        link = url_for("subscriptions.show", slug=org.slug)
    return Markup('Your plan allows {limit} {label}. <a href="{link}">Upgrade your plan</a> to go beyond it.').format(
        limit=f"{limit:,}", label=escape(LIMIT_LABELS[name]), link=link
    )


@limits.register
def check_plan_limit(org, name: str, adding: int = 1) -> None:
    if name not in LIMITS:
        return
    allowed = plan_limit(org, name)
    if allowed is None:
        return
    used = current_usage(org, name)
    if used + adding > allowed:
        raise LimitExceeded(
            limit_message(org, name, allowed),
            limit=name,
            code="plan_limit_exceeded",
            details={"limit": name, "allowed": allowed},
        )
    if used < allowed <= used + adding:  # this action takes the last unit the plan allows
        emit("usage.limit_reached", org=org, limit=name, allowed=allowed, usage=used + adding)
