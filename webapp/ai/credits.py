"""The AI credit ledger. Balance changes are single conditional UPDATEs on their own short
transaction, so a reservation is visible to every concurrent request before the slow AI call starts
and survives whatever the caller rolls back:

    UPDATE ai_credit_balances SET balance = balance - :cost … WHERE organization_id = :org AND balance >= :cost

Only the request whose UPDATE matched a row may proceed; the balance can never go below zero (and a
CHECK constraint says so too). ``grant_remaining`` is the part of the balance from this period's plan
grant: spent first, expiring at the next reset; purchased, bonus and refunded credits do not expire.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from webapp.ai.models import (
    ADMIN_ADJUSTMENT,
    BONUS,
    PURCHASE,
    REFUND,
    SUBSCRIPTION_GRANT,
    USAGE,
    AiCreditBalance,
    AiCreditPurchase,
    AiCreditTransaction,
)
from webapp.audit import record
from webapp.core.errors import Conflict, DomainError
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.settings import define, get

define(
    "ai.default_period_grant",
    int,
    200,
    "AI credits granted per period when no plan says otherwise",
    minimum=0,
    maximum=10_000_000,
)
define(
    "ai.unlimited_period_grant",
    int,
    100_000,
    "AI credits per period for plans without an AI limit",
    minimum=0,
    maximum=100_000_000,
)
define("ai.tokens_per_credit", int, 100, "Tokens (input + output) that one AI credit buys", minimum=1, maximum=100_000)
define("ai.period_days", int, 30, "Length of an AI credit period in days", minimum=1, maximum=366)
define("ai.credit_pack_size", int, 1000, "Credits in one purchasable pack", minimum=1, maximum=10_000_000)
define("ai.credit_pack_price_cents", int, 1000, "Price of one pack in cents", minimum=0, maximum=100_000_000)

B = AiCreditBalance.__table__
T = AiCreditTransaction.__table__


def plan_grant(org) -> int:
    """The organization's plan allowance of AI credits per period (subscriptions), else the default."""
    try:
        from webapp.subscriptions.services import plan_limit
    except ImportError:
        return get("ai.default_period_grant")
    try:
        allowed = plan_limit(org, "ai_credits")
    except Exception:  # no subscription yet, or the catalog is not seeded: fall back to the default
        return get("ai.default_period_grant")
    return get("ai.unlimited_period_grant") if allowed is None else int(allowed)


def credits_for_tokens(tokens: int) -> int:
    return max(1, math.ceil(max(0, tokens) / get("ai.tokens_per_credit")))


def next_period(after: datetime) -> datetime:
    return after + timedelta(days=get("ai.period_days"))


def balance_of(org, *, in_session: bool = False) -> AiCreditBalance:
    """The organization's balance row, created with this period's plan grant on first use.

    ``in_session``: create it in the caller's transaction (when the caller already wrote, a second
    connection would wait on SQLite's single writer); otherwise in its own short transaction.
    """
    row = db.session.scalar(select(AiCreditBalance).where(AiCreditBalance.organization_id == org.id))
    if row is not None:
        return row
    grant, now = plan_grant(org), utcnow()
    if in_session:
        row = AiCreditBalance(
            organization_id=org.id,
            balance=grant,
            grant_remaining=grant,
            period_grant=grant,
            total_purchased=0,
            total_used=0,
            last_reset=now,
            next_reset=next_period(now),
        )
        db.session.add(row)
        db.session.add(
            AiCreditTransaction(
                organization_id=org.id,
                type=SUBSCRIPTION_GRANT,
                amount=grant,
                balance_after=grant,
                description="Plan grant for this period",
                details={},
            )
        )
        db.session.flush()
        return row
    try:
        with db.engine.begin() as conn:
            conn.execute(
                B.insert().values(
                    organization_id=org.id,
                    balance=grant,
                    grant_remaining=grant,
                    period_grant=grant,
                    total_purchased=0,
                    total_used=0,
                    last_reset=now,
                    next_reset=next_period(now),
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                T.insert().values(
                    organization_id=org.id,
                    type=SUBSCRIPTION_GRANT,
                    amount=grant,
                    balance_after=grant,
                    description="Plan grant for this period",
                    details={},
                    created_at=now,
                )
            )
    except IntegrityError:
        pass  # another request created it first
    return db.session.scalar(select(AiCreditBalance).where(AiCreditBalance.organization_id == org.id))


def _current(conn, org_id: int) -> int:
    return conn.execute(select(B.c.balance).where(B.c.organization_id == org_id)).scalar_one()


def reserve(org_id: int, cost: int, *, user_id: int | None, service: str, operation: str) -> int | None:
    """Take ``cost`` credits now if the balance covers them; returns the USAGE transaction id, or None."""
    now = utcnow()
    with db.engine.begin() as conn:
        # Lock and look first: a refused request (the balance does not cover it) writes nothing at all.
        current = conn.execute(select(B.c.balance).where(B.c.organization_id == org_id).with_for_update()).scalar()
        if current is None or current < cost:
            return None
        taken = conn.execute(
            update(B)
            .where(B.c.organization_id == org_id, B.c.balance >= cost)
            .values(
                balance=B.c.balance - cost,
                grant_remaining=case((B.c.grant_remaining >= cost, B.c.grant_remaining - cost), else_=0),
                total_used=B.c.total_used + cost,
                updated_at=now,
            )
        ).rowcount
        if taken != 1:
            return None
        result = conn.execute(
            T.insert().values(
                organization_id=org_id,
                user_id=user_id,
                type=USAGE,
                amount=-cost,
                balance_after=_current(conn, org_id),
                service=service,
                description=f"{operation} (reserved)",
                details={"reserved": cost, "state": "reserved"},
                created_at=now,
            )
        )
        return result.inserted_primary_key[0]


def settle(org_id: int, transaction_id: int, reserved: int, actual: int, operation: str, tokens: dict) -> int:
    """Keep what the request really cost (never more than reserved) and give the rest back."""
    actual = min(actual, reserved)
    back = reserved - actual
    with db.engine.begin() as conn:
        if back:
            conn.execute(
                update(B)
                .where(B.c.organization_id == org_id)
                .values(balance=B.c.balance + back, total_used=B.c.total_used - back, updated_at=utcnow())
            )
        conn.execute(
            update(T)
            .where(T.c.id == transaction_id)
            .values(
                amount=-actual,
                balance_after=_current(conn, org_id),
                description=operation,
                details={"reserved": reserved, "state": "settled", **tokens},
            )
        )
    return actual


def refund(org_id: int, transaction_id: int, reserved: int, operation: str, reason: str) -> None:
    """The request failed: every reserved credit goes back, and the history says why."""
    now = utcnow()
    with db.engine.begin() as conn:
        conn.execute(
            update(B)
            .where(B.c.organization_id == org_id)
            .values(balance=B.c.balance + reserved, total_used=B.c.total_used - reserved, updated_at=now)
        )
        conn.execute(
            update(T)
            .where(T.c.id == transaction_id)
            .values(description=f"{operation} (failed)", details={"reserved": reserved, "state": "refunded"})
        )
        conn.execute(
            T.insert().values(
                organization_id=org_id,
                type=REFUND,
                amount=reserved,
                balance_after=_current(conn, org_id),
                description=f"Refund: {reason}"[:255],
                details={"usage_transaction": transaction_id},
                created_at=now,
            )
        )


# --- additions (in the caller's transaction: they commit with the business change) ---------------


def add_credits(
    org,
    amount: int,
    type_: str,
    actor,
    description: str,
    *,
    purchase: AiCreditPurchase | None = None,
    service: str | None = None,
) -> AiCreditTransaction:
    if type_ not in (PURCHASE, BONUS, ADMIN_ADJUSTMENT, SUBSCRIPTION_GRANT):
        raise DomainError("Unknown kind of credit change.")
    balance = balance_of(org, in_session=True)
    if amount == 0:
        raise DomainError("Enter a number of credits other than zero.", field="amount")
    if amount < 0 and type_ != ADMIN_ADJUSTMENT:
        raise DomainError("Only an admin adjustment can remove credits.", field="amount")
    stmt = update(AiCreditBalance).where(AiCreditBalance.id == balance.id)
    if amount < 0:
        stmt = stmt.where(AiCreditBalance.balance >= -amount)
    values = {"balance": AiCreditBalance.balance + amount, "updated_at": utcnow()}
    if amount < 0:  # the grant part never exceeds what is left
        values["grant_remaining"] = case(
            (AiCreditBalance.grant_remaining > AiCreditBalance.balance + amount, AiCreditBalance.balance + amount),
            else_=AiCreditBalance.grant_remaining,
        )
    if type_ == PURCHASE:
        values["total_purchased"] = AiCreditBalance.total_purchased + amount
    changed = db.session.execute(stmt.values(**values).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise Conflict("The balance is smaller than that adjustment.", code="insufficient_credits")
    db.session.refresh(balance)
    row = AiCreditTransaction(
        organization_id=org.id,
        user_id=getattr(actor, "id", None),
        type=type_,
        amount=amount,
        balance_after=balance.balance,
        service=service,
        description=description[:255],
        details={},
        purchase_amount_cents=purchase.amount_cents if purchase else None,
        currency=purchase.currency if purchase else None,
    )
    db.session.add(row)
    db.session.flush()
    record(actor, f"ai_credits.{type_.lower()}", row, {"amount": amount, "reason": description}, org=org)
    return row


def adjust(org, actor, amount: int, type_: str, reason: str) -> AiCreditTransaction:
    """Staff: a bonus (adds) or an admin adjustment (either way), always with a reason."""
    if not (reason or "").strip():
        raise DomainError("Say why.", field="reason")
    if type_ not in (BONUS, ADMIN_ADJUSTMENT):
        raise DomainError("Choose bonus or admin adjustment.", field="type")
    return add_credits(org, amount, type_, actor, reason.strip())


def reset_period(balance: AiCreditBalance, org, now: datetime | None = None) -> bool:
    """Expire what is left of the last grant and grant this period's allowance; compare-and-set on
    ``next_reset`` so two workers never grant twice."""
    now = now or utcnow()
    if balance.next_reset > now:
        return False
    grant = plan_grant(org)
    expired = balance.grant_remaining
    following = next_period(max(now, balance.next_reset))
    changed = db.session.execute(
        update(AiCreditBalance)
        .where(AiCreditBalance.id == balance.id, AiCreditBalance.next_reset == balance.next_reset)
        .values(
            balance=AiCreditBalance.balance - AiCreditBalance.grant_remaining + grant,
            grant_remaining=grant,
            period_grant=grant,
            last_reset=now,
            next_reset=following,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        return False
    db.session.refresh(balance)
    db.session.add(
        AiCreditTransaction(
            organization_id=org.id,
            type=SUBSCRIPTION_GRANT,
            amount=grant - expired,
            balance_after=balance.balance,
            description=f"Plan grant of {grant} for the new period ({expired} unused expired)",
            details={"grant": grant, "expired": expired},
        )
    )
    record(None, "ai_credits.period_reset", balance, {"grant": grant, "expired": expired}, org=org)
    return True


# --- purchases through billing ------------------------------------------------------------------


def purchase_packs(org, actor, packs: int) -> AiCreditPurchase:
    """An invoice for the packs; the credits arrive when billing says the invoice is paid."""
    if not isinstance(packs, int) or not 1 <= packs <= 100:
        raise DomainError("Choose between 1 and 100 packs.", field="packs")
    credits = packs * get("ai.credit_pack_size")
    price = get("ai.credit_pack_price_cents")
    purchase = AiCreditPurchase(
        organization_id=org.id,
        user_id=getattr(actor, "id", None),
        credits=credits,
        amount_cents=packs * price,
        currency="USD",
    )
    db.session.add(purchase)
    db.session.flush()
    purchase.invoice_id = _invoice_purchase(org, actor, purchase, packs, price)
    record(
        actor, "ai_credits.purchase_started", purchase, {"credits": credits, "invoice_id": purchase.invoice_id}, org=org
    )
    return purchase


def _invoice_purchase(org, actor, purchase: AiCreditPurchase, packs: int, price: int) -> int:
    try:
        from webapp.billing import services as billing
    except ImportError:
        raise DomainError("Purchases need billing, which is not available here.") from None
    account = billing.billing_account_for(org)
    today = utcnow().date()
    invoice = billing.create_draft_invoice(
        account, period_start=today, period_end=today, currency=purchase.currency, actor=actor
    )
    billing.add_line_item(
        invoice, f"AI credits: {packs} x {get('ai.credit_pack_size'):,}", packs, price, metric="ai_credits", actor=actor
    )
    billing.finalize_invoice(invoice, actor)
    return invoice.id


def grant_paid_purchase(invoice_id: int, actor=None) -> AiCreditPurchase | None:
    """On invoice.paid: the purchase's credits, exactly once (the row is locked and its state checked)."""
    from webapp.orgs.models import Organization

    stmt = select(AiCreditPurchase).where(AiCreditPurchase.invoice_id == invoice_id)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    purchase = db.session.scalar(stmt)
    if purchase is None or purchase.status != AiCreditPurchase.PENDING:
        return None
    claimed = db.session.execute(
        update(AiCreditPurchase)
        .where(AiCreditPurchase.id == purchase.id, AiCreditPurchase.status == AiCreditPurchase.PENDING)
        .values(status=AiCreditPurchase.PAID, paid_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    db.session.refresh(purchase)
    org = db.session.get(Organization, purchase.organization_id)
    add_credits(
        org,
        purchase.credits,
        PURCHASE,
        actor,
        f"Purchase of {purchase.credits:,} credits (invoice paid)",
        purchase=purchase,
    )
    return purchase
