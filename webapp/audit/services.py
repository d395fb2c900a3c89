"""``record`` is the single way anything is written to the audit log."""

from __future__ import annotations

from flask import has_request_context, request

from webapp.audit.models import AuditEntry
from webapp.extensions import db

SYSTEM = None  # the actor for scheduled jobs and automatic transitions


def _actor(actor) -> tuple[str, int | None, str]:
    if actor is None:
        return "system", None, "system"
    kind = getattr(actor, "audit_actor_type", "user")
    label = getattr(actor, "audit_label", None) or getattr(actor, "email", None) or str(actor)
    return kind, actor.id, label


def record(actor, action: str, entity=None, metadata: dict | None = None, *, org=None) -> AuditEntry:
    """Append one entry. ``actor`` is a User, an ApiKey (``audit_actor_type='api_key'``) or None."""
    if entity is not None and getattr(entity, "id", None) is None:
        db.session.flush()  # a new entity needs its id before it can be named
    actor_type, actor_id, label = _actor(actor)
    org_id = getattr(org, "id", org)
    if org_id is None and entity is not None:
        org_id = getattr(entity, "organization_id", None)
        if org_id is None and type(entity).__name__ == "Organization":
            org_id = entity.id
    entry = AuditEntry(
        actor_type=actor_type,
        actor_id=actor_id,
        actor_label=label[:254],
        organization_id=org_id,
        action=action,
        entity_type=type(entity).__name__ if entity is not None else None,
        entity_id=getattr(entity, "id", None),
        details=metadata or {},
    )
    if has_request_context():
        entry.ip_address = request.remote_addr
        entry.user_agent = (request.user_agent.string or "")[:500]
    db.session.add(entry)
    return entry
