"""Demo: prompt templates for every AI service and credit balances for the demo organizations."""

from __future__ import annotations

from sqlalchemy import select

from webapp.ai import credits
from webapp.ai.models import AiCreditTransaction
from webapp.ai.prompts import ensure_defaults
from webapp.demo import step
from webapp.extensions import db


@step(order=82)
def ai_prompts_and_credits() -> None:
    from webapp.orgs.demo import demo_org

    ensure_defaults()
    for slug in ("harare-retail", "bulawayo-foods", "kyoto-creators"):
        org = demo_org(slug)
        if org is None:
            continue
        credits.balance_of(org, in_session=True)
        bonus = db.session.scalar(
            select(AiCreditTransaction).where(
                AiCreditTransaction.organization_id == org.id, AiCreditTransaction.type == "BONUS"
            )
        )
        if bonus is None:
            credits.adjust(org, None, 1000, "BONUS", "Welcome bonus for the demo")
