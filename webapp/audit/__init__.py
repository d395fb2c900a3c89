"""Audit: ``record(actor, action, entity, metadata)`` for every state change."""

from webapp.audit.services import SYSTEM, record

__all__ = ["SYSTEM", "record"]
