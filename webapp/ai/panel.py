"""The AI credits card on the organization dashboard."""

from __future__ import annotations

from webapp.ai.credits import credit_figures
from webapp.orgs.dashboard import panel


@panel("ai/_panel.html", "ai")
def ai_panel(org) -> dict:
    return {"credits": credit_figures(org)}
