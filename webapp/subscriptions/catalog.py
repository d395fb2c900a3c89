"""The default plan catalog. Staff edit prices and limits at /admin/plans; these are the first values."""

from __future__ import annotations

from sqlalchemy import select

from webapp.core.errors import DomainError
from webapp.extensions import db
from webapp.subscriptions.models import Plan

FREE, INDIVIDUAL_PRO, TEAM_STANDARD, TEAM_PREMIUM, ENTERPRISE = (
    "FREE",
    "INDIVIDUAL_PRO",
    "TEAM_STANDARD",
    "TEAM_PREMIUM",
    "ENTERPRISE",
)
PLAN_CODES = (FREE, INDIVIDUAL_PRO, TEAM_STANDARD, TEAM_PREMIUM, ENTERPRISE)

DEFAULT_PLANS = [
    {
        "code": FREE,
        "name": "Free",
        "description": "For trying Tessera out.",
        "monthly_price": 0,
        "yearly_price": 0,
        "max_users": 5,
        "max_storage_mb": 1024,
        "max_ai_credits": 10,
        "max_api_calls": 1000,
        "metered_prices": {},
        "sort_order": 10,
    },
    {
        "code": INDIVIDUAL_PRO,
        "name": "Individual Pro",
        "description": "One person, more room.",
        "monthly_price": 1200,
        "yearly_price": 12000,
        "max_users": 1,
        "max_storage_mb": 10240,
        "max_ai_credits": 200,
        "max_api_calls": 10000,
        "metered_prices": {"pos.transaction": {"unit_price": 2, "per": 1, "included": 1000}},
        "sort_order": 20,
    },
    {
        "code": TEAM_STANDARD,
        "name": "Team Standard",
        "description": "A team with everyday needs.",
        "monthly_price": 4900,
        "yearly_price": 49000,
        "max_users": 10,
        "max_storage_mb": 51200,
        "max_ai_credits": 1000,
        "max_api_calls": 100000,
        "metered_prices": {
            "pos.transaction": {"unit_price": 1, "per": 1, "included": 5000},
            "sms.sent": {"unit_price": 3, "per": 1, "included": 100},
        },
        "sort_order": 30,
    },
    {
        "code": TEAM_PREMIUM,
        "name": "Team Premium",
        "description": "Larger teams and heavy API use.",
        "monthly_price": 14900,
        "yearly_price": 149000,
        "max_users": 50,
        "max_storage_mb": 204800,
        "max_ai_credits": 5000,
        "max_api_calls": 1000000,
        "metered_prices": {
            "pos.transaction": {"unit_price": 50, "per": 100, "included": 20000},
            "sms.sent": {"unit_price": 2, "per": 1, "included": 1000},
        },
        "sort_order": 40,
    },
    {
        "code": ENTERPRISE,
        "name": "Enterprise",
        "description": "Priced per organization by our staff; no limits unless agreed.",
        "monthly_price": 0,
        "yearly_price": 0,
        "max_users": None,
        "max_storage_mb": None,
        "max_ai_credits": None,
        "max_api_calls": None,
        "metered_prices": {},
        "is_custom_priced": True,
        "sort_order": 50,
    },
]


def ensure_catalog() -> dict[str, Plan]:
    """Create any missing catalog plan (never overwrites staff edits); returns plans by code."""
    plans = {p.code: p for p in db.session.scalars(select(Plan))}
    for spec in DEFAULT_PLANS:
        if spec["code"] not in plans:
            plan = Plan(**spec)
            db.session.add(plan)
            plans[plan.code] = plan
    if db.session.new:
        db.session.flush()
    return plans


def plan_by_code(code: str) -> Plan | None:
    plan = db.session.scalar(select(Plan).where(Plan.code == code))
    if plan is None and code in PLAN_CODES:
        plan = ensure_catalog()[code]
    return plan


def catalog_plan(code: str) -> Plan:
    """A plan the code names for certain (FREE, ENTERPRISE, a form's validated choice): the catalog's
    plans are created on first use, so only a code outside it is refused, with a message."""
    plan = plan_by_code(code)
    if plan is None:
        raise DomainError(f"There is no plan {code!r}.", field="plan")
    return plan


def catalog() -> list[Plan]:
    return sorted(ensure_catalog().values(), key=lambda p: (p.sort_order, p.id))
