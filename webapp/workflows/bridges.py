"""Calls into other domains for cross-domain steps, through their documented services only.
Imported inside functions so a missing domain breaks only the one step that needs it."""

from __future__ import annotations

from sqlalchemy import select

from webapp.core.transaction import commit_progress
from webapp.extensions import db
from webapp.workflows.steps import StepFailed


def _message(error: Exception, fallback: str) -> str:
    return getattr(error, "message", None) or fallback


def _acting_user(workflow):
    """Work a workflow does is done in the name of the member who created it."""
    from webapp.auth.models import User

    user = db.session.get(User, workflow.created_by_id) if workflow.created_by_id else None
    if user is None:
        raise StepFailed("The member who created this workflow is gone; duplicate it under your name.")
    return user


def open_support_ticket(org, workflow, subject: str, description: str, priority: str) -> int:
    from webapp.core.errors import DomainError
    from webapp.support.services import open_ticket

    try:
        ticket = open_ticket(org, _acting_user(workflow), subject[:200], description, priority=priority)
    except DomainError as error:
        raise StepFailed(_message(error, "Support refused the ticket.")) from None
    return ticket.id


def schedule_video_posts(org, workflow, video_id, platforms, caption, hashtags, when) -> list[int]:
    from webapp.core.errors import DomainError
    from webapp.studio.models import PROVIDER_OF
    from webapp.studio.services.posts import PostDraft, TargetDraft, active_connections, parse_hashtags, save_post

    connected = active_connections(org)
    targets = []
    for name in platforms:
        platform = name.upper()
        if platform not in PROVIDER_OF:
            raise StepFailed(f"Unknown platform “{name}”.")
        accounts = connected.get(platform) or []
        if not accounts:
            raise StepFailed(f"No connected {name} account; connect one in the studio.")
        options = {}
        if platform == "TIKTOK":
            options = {"privacy_level": "SELF_ONLY"}
        elif platform == "YOUTUBE":
            options = {"title": (caption or "New video")[:100], "privacy": "private"}
        targets.append(TargetDraft(platform=platform, connection_id=accounts[0].id, options=options))
    draft = PostDraft(
        video_id=video_id, caption=caption, hashtags=parse_hashtags(hashtags or ""), targets=targets, when=when
    )
    try:
        post = save_post(org, _acting_user(workflow), draft, "schedule")
    except DomainError as error:
        raise StepFailed(_message(error, "The studio refused the post.")) from None
    return [post.id]


def connection_of(org, connection_id: int):
    from webapp.integrations.models import Connection

    return db.session.scalar(
        select(Connection).where(Connection.id == connection_id, Connection.organization_id == org.id)
    )


def connection_token(credential) -> str:
    """A fresh bearer token from the integrations framework (it refreshes one connection at a time)."""
    from webapp.integrations import oauth
    from webapp.integrations.models import Connection

    connection = db.session.get(Connection, credential.connection_id) if credential.connection_id else None
    if connection is None or connection.organization_id != credential.organization_id:
        raise StepFailed(f"The credential “{credential.name}” has no connection any more.")
    commit_progress("the integrations framework refreshes a token with no pending change")
    try:
        return oauth.access_token(connection)
    except Exception as error:  # ConnectionExpired / ConnectionUnavailable carry readable messages
        raise StepFailed(f"The connection could not give a token: {_message(error, type(error).__name__)}") from None


def approved_lines_for_billing_run(account, period_start, period_end) -> list:
    """A billing-run source: approved workflow lines not yet billed become lines of the period's invoice.
    Marked in the billing run's own transaction, so a rolled-back run leaves them for the next one."""
    from webapp.billing.services import LineSpec
    from webapp.workflows.models import PendingInvoiceLine

    lines = db.session.scalars(
        select(PendingInvoiceLine)
        .where(
            PendingInvoiceLine.organization_id == account.organization_id,
            PendingInvoiceLine.status == PendingInvoiceLine.APPROVED,
            PendingInvoiceLine.billing_reference.is_(None),
        )
        .order_by(PendingInvoiceLine.id)
    ).all()
    specs = []
    for line in lines:
        if line.currency != (account.currency or "USD"):
            continue  # an invoice has one currency; other lines wait for a matching account
        line.billing_reference = f"billing run {period_start}..{period_end}"
        specs.append(LineSpec(line.description, 1, line.amount_cents, metric="workflow_line"))
    return specs


def approved_lines_for_billing_batch(accounts, period_start, period_end) -> dict:
    """``approved_lines_for_billing_run`` for a batch of accounts (``BILLING_RUN_BATCH_SOURCES``): one
    query for the batch instead of one per account. Same rules: a line goes to the first account of
    its organization (in the batch's order) whose currency matches, and is marked as billed."""
    from webapp.billing.services import LineSpec
    from webapp.workflows.models import PendingInvoiceLine

    by_org: dict[int, list] = {}
    for account in accounts:
        by_org.setdefault(account.organization_id, []).append(account)
    if not by_org:
        return {}
    lines = db.session.scalars(
        select(PendingInvoiceLine)
        .where(
            PendingInvoiceLine.organization_id.in_(list(by_org)),
            PendingInvoiceLine.status == PendingInvoiceLine.APPROVED,
            PendingInvoiceLine.billing_reference.is_(None),
        )
        .order_by(PendingInvoiceLine.id)
    ).all()
    result: dict[int, list] = {}
    for line in lines:
        account = next((a for a in by_org[line.organization_id] if line.currency == (a.currency or "USD")), None)
        if account is None:
            continue  # an invoice has one currency; other lines wait for a matching account
        line.billing_reference = f"billing run {period_start}..{period_end}"
        result.setdefault(account.id, []).append(
            LineSpec(line.description, 1, line.amount_cents, metric="workflow_line")
        )
    return result
