"""``record`` is the single way anything is written to the audit log."""

from __future__ import annotations

from contextlib import contextmanager

from flask import has_request_context, request
from sqlalchemy import insert

from webapp.audit.models import AuditEntry
from webapp.core.models import Base, utcnow
from webapp.core.parsing import int_or_none
from webapp.extensions import db

SYSTEM = None  # the actor for scheduled jobs and automatic transitions
_BATCH_KEY = "audit.batched"  # in the session's info: the entries ``batched()`` collects


def _actor(actor) -> tuple[str, int | None, str]:
    if actor is None:
        return "system", None, "system"
    kind = getattr(actor, "audit_actor_type", "user")
    label = getattr(actor, "audit_label", None) or getattr(actor, "email", None) or str(actor)
    return kind, actor.id, label


def record(actor, action: str, entity=None, metadata: dict | None = None, *, org=None) -> AuditEntry | None:
    """Append one entry. ``actor`` is a User, an ApiKey (``audit_actor_type='api_key'``) or None.
    Inside ``batched()`` the entry is written at the block's end (and None returned)."""
    if entity is not None and getattr(entity, "id", None) is None:
        db.session.flush()  # a new entity needs its id before it can be named
    actor_type, actor_id, label = _actor(actor)
    org_id = getattr(org, "id", org)
    if org_id is None and entity is not None:
        org_id = getattr(entity, "organization_id", None)
        if org_id is None and type(entity).__name__ == "Organization":
            org_id = entity.id
    values = {
        "actor_type": actor_type,
        "actor_id": actor_id,
        "actor_label": label[:254],
        "organization_id": org_id,
        "action": action,
        "entity_type": type(entity).__name__ if entity is not None else None,
        "entity_id": getattr(entity, "id", None),
        "details": metadata or {},
        "ip_address": None,
        "user_agent": None,
    }
    if has_request_context():
        values["ip_address"] = request.remote_addr
        values["user_agent"] = (request.user_agent.string or "")[:500]
    pending = db.session().info.get(_BATCH_KEY)
    if pending is not None:
        values["created_at"] = utcnow()
        pending.append(values)
        return None
    entry = AuditEntry(**values)
    db.session.add(entry)
    return entry


@contextmanager
def batched():
    """Inside the block, ``record`` collects its entries and they are written at its end in one
    executemany (a bulk path records ~5 entries per invoice); the same rows, in the same order. An
    exception inside the block writes none of them (the caller's savepoint rolls back the rest)."""
    session = db.session()
    if session.info.get(_BATCH_KEY) is not None:  # already inside a batch: it writes these too
        yield
        return
    pending: list[dict] = []
    session.info[_BATCH_KEY] = pending
    try:
        yield
    finally:
        session.info.pop(_BATCH_KEY, None)
    if pending:
        db.session.execute(insert(AuditEntry), pending)


def search_entries(
    *,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: int | None = None,
    organization_id: int | None = None,
    since=None,
    until=None,
    before: int | None = None,
    per_page: int = 50,
):
    """The audit log, newest first, keyset-paginated by id.

    ``actor`` is "system", a user id or an actor label (e-mail); ``action`` ending in "." matches the
    prefix (``invoice.``). Organization and action filters use the ``(organization_id, id)`` and
    ``(action, id)`` indexes, so a filtered page stays an index range scan.
    """
    from sqlalchemy import select

    from webapp.core.pagination import keyset

    stmt = select(AuditEntry)
    if actor:
        actor = actor.strip()
        if actor == "system":
            stmt = stmt.where(AuditEntry.actor_type == "system")
        elif int_or_none(actor) is not None:
            stmt = stmt.where(AuditEntry.actor_id == int_or_none(actor), AuditEntry.actor_type != "system")
        else:
            stmt = stmt.where(AuditEntry.actor_label == actor.lower())
    if action:
        action = action.strip()
        if action.endswith("."):
            stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
        else:
            stmt = stmt.where(AuditEntry.action == action)
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type.strip())
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if organization_id is not None:
        stmt = stmt.where(AuditEntry.organization_id == organization_id)
    if since is not None:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.created_at < until)
    return keyset(stmt, AuditEntry.id, before, per_page)


def entries_for(*, organization_id: int | None = None, user_id: int | None = None, limit: int = 20) -> list:
    """Recent entries about an organization (in it) or a user (by them or about them)."""
    from sqlalchemy import and_, or_, select

    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if organization_id is not None:
        stmt = stmt.where(AuditEntry.organization_id == organization_id)
    if user_id is not None:
        stmt = stmt.where(
            or_(
                and_(AuditEntry.actor_type == "user", AuditEntry.actor_id == user_id),
                and_(AuditEntry.entity_type == "User", AuditEntry.entity_id == user_id),
            )
        )
    return list(db.session.scalars(stmt))


def entity_types() -> list[str]:
    """Names an entry's entity can have (every mapped model), for the filter's suggestions."""
    return sorted({mapper.class_.__name__ for mapper in Base.registry.mappers})
