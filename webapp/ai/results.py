"""An AI answer a form asked for, kept so the page that shows it is a GET (post-redirect-get): a reload
shows the same answer and never asks the AI — or charges credits — again.

One row per organization, member and kind (a new answer replaces the last one), so the table stays small.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import BigId, utcnow
from webapp.extensions import Model, db

CAPTION, WORKFLOW_DRAFT = "caption", "workflow_draft"


class AiResult(Model):
    __tablename__ = "ai_results"
    __table_args__ = (Index("ix_ai_results_org_user_kind", "organization_id", "user_id", "kind"),)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(default=dict)


def keep_result(org, user, kind: str, payload: dict) -> AiResult:
    """Store ``payload`` as this member's latest ``kind`` answer (in the caller's transaction)."""
    db.session.execute(
        delete(AiResult).where(AiResult.organization_id == org.id, AiResult.user_id == user.id, AiResult.kind == kind)
    )
    row = AiResult(organization_id=org.id, user_id=user.id, kind=kind, payload=payload)
    db.session.add(row)
    db.session.flush()
    return row


def kept_result(org, user, kind: str, result_id) -> dict | None:
    """The answer ``result_id`` if it is this member's in this organization, else None (never another's)."""
    try:
        result_id = int(result_id)
    except (TypeError, ValueError):
        return None
    row = db.session.scalar(
        select(AiResult).where(
            AiResult.id == result_id,
            AiResult.organization_id == org.id,
            AiResult.user_id == user.id,
            AiResult.kind == kind,
        )
    )
    return None if row is None else dict(row.payload)
