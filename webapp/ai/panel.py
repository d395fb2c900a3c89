"""The AI credits card on the organization dashboard."""

from __future__ import annotations

from sqlalchemy import select

from webapp.ai.models import AiCreditBalance
from webapp.extensions import db
from webapp.orgs.dashboard import panel


@panel("ai/_panel.html", "ai")
def ai_panel(org) -> dict:
    return {"balance": db.session.scalar(select(AiCreditBalance).where(AiCreditBalance.organization_id == org.id))}
