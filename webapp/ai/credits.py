"""The AI credit ledger. A reservation is a conditional UPDATE on its own short transaction, so it
is visible to every concurrent request before the slow AI call starts and survives whatever the
caller rolls back:

    SELECT … FOR UPDATE; UPDATE ai_credit_balances SET balance = balance - :cost … WHERE organization_id = :org

Only a request whose balance covers the cost may proceed; the balance can never go below zero (and a
CHECK constraint says so too). Two buckets make up the balance: ``grant_remaining``, the part from
this period's plan grant (spent first, expiring at the next reset), and the rest, permanent
(purchased, bonus). A reservation records how much it took from the grant, and settling or refunding
gives each part back to its own bucket; the charge (settle) can run in the caller's transaction, so
it commits with the answer it pays for or not at all.
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
from webapp.core.models import rowcount, utcnow
from webapp.core.terms import N_
from webapp.extensions import db
from webapp.settings import define, get

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
    """The organization's plan allowance of AI credits per period (an organization without a
    subscription is on FREE, so every organization has a plan)."""
    from webapp.subscriptions.services import plan_limit

    allowed = plan_limit(org, "ai_credits")
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
    # Ours or the one another request created first: there is one now.
    return db.session.execute(select(AiCreditBalance).where(AiCreditBalance.organization_id == org.id)).scalar_one()


def credit_figures(org) -> dict | None:
    """The AI credit figures every page shows (dashboard card, AI page, subscription page): read-only,
    None before the first AI request creates the balance row."""
    row = db.session.scalar(select(AiCreditBalance).where(AiCreditBalance.organization_id == org.id))
    if row is None:
        return None
    return {
        "balance": row.balance,
        "period_grant": row.period_grant,
        "grant_used": max(0, row.period_grant - row.grant_remaining),
        "grant_remaining": row.grant_remaining,
        "next_reset": row.next_reset,
    }


def _current(conn, org_id: int) -> int:
    return conn.execute(select(B.c.balance).where(B.c.organization_id == org_id)).scalar_one()


def _period_key(next_reset) -> str:
    return next_reset.isoformat()


def reserve(org_id: int, cost: int, *, user_id: int | None, service: str, operation: str) -> int | None:
    """Take ``cost`` credits now if the balance covers them; returns the USAGE transaction id, or None.

    The plan grant is spent first; the reservation remembers how much of it came from the grant (and
    of which period), so settling or refunding gives each part back to the bucket it came from."""
    now = utcnow()
    with db.engine.begin() as conn:
        # Lock and look first: a refused request (the balance does not cover it) writes nothing at all.
        row = conn.execute(
            select(B.c.balance, B.c.grant_remaining, B.c.next_reset)
            .where(B.c.organization_id == org_id)
            .with_for_update()
        ).one_or_none()
        if row is None or row.balance < cost:
            return None
        from_grant = min(row.grant_remaining, cost)
        conn.execute(
            update(B)
            .where(B.c.organization_id == org_id)
            .values(
                balance=B.c.balance - cost,
                grant_remaining=B.c.grant_remaining - from_grant,
                total_used=B.c.total_used + cost,
                updated_at=now,
            )
        )
        result = conn.execute(
            T.insert().values(
                organization_id=org_id,
                user_id=user_id,
                type=USAGE,
                amount=-cost,
                balance_after=row.balance - cost,
                service=service,
                description=f"{operation} (reserved)",
                details={
                    "reserved": cost,
                    "from_grant": from_grant,
                    "period": _period_key(row.next_reset),
                    "state": "reserved",
                },
                created_at=now,
            )
        )
        key = result.inserted_primary_key
        if key is None:  # an INSERT of one row always has its key
            raise RuntimeError("the credit reservation came back without its id")
        return key[0]


def _give_back(ex, org_id: int, transaction_id: int, keep: int | None, operation: str, note: dict) -> int | None:
    """Close a reservation on ``ex`` (a connection, or the session for the caller's transaction): keep
    ``keep`` credits (``None``: refund all) and give the rest back to the bucket each part came from.

    The cost is taken from the grant part first (the grant is what is spent first). An unused grant
    part whose period has ended since the reservation expires (its own ledger row) instead of coming
    back: expiring credits never outlive their period, nor turn permanent. Returns the credits kept,
    or ``None`` when the reservation was closed already (settled or refunded), which changes nothing."""
    now = utcnow()
    balance = ex.execute(select(B.c.next_reset).where(B.c.organization_id == org_id).with_for_update()).one_or_none()
    usage = ex.execute(
        select(T.c.details)
        .where(T.c.id == transaction_id, T.c.organization_id == org_id, T.c.type == USAGE)
        .with_for_update()
    ).one_or_none()
    if balance is None or usage is None or (usage.details or {}).get("state") != "reserved":
        return None
    details = dict(usage.details)
    reserved = int(details["reserved"])
    from_grant = min(int(details.get("from_grant", 0)), reserved)
    kept = 0 if keep is None else max(0, min(int(keep), reserved))
    kept_from_grant = min(kept, from_grant)
    back_grant = from_grant - kept_from_grant
    back_permanent = (reserved - from_grant) - (kept - kept_from_grant)
    expired = back_grant if details.get("period") != _period_key(balance.next_reset) else 0
    back_grant -= expired
    ex.execute(
        update(B)
        .where(B.c.organization_id == org_id)
        .values(
            balance=B.c.balance + back_grant + back_permanent,
            grant_remaining=B.c.grant_remaining + back_grant,
            total_used=B.c.total_used - (reserved - kept),
            updated_at=now,
        )
    )
    after = _current(ex, org_id)
    if keep is None:
        ex.execute(
            update(T)
            .where(T.c.id == transaction_id)
            .values(description=f"{operation} (failed)", details={**details, "state": "refunded"})
        )
        ex.execute(
            T.insert().values(
                organization_id=org_id,
                type=REFUND,
                amount=reserved,
                balance_after=after + expired,
                description=f"Refund: {note.get('reason', '')}"[:255],
                details={"usage_transaction": transaction_id},
                created_at=now,
            )
        )
    else:
        ex.execute(
            update(T)
            .where(T.c.id == transaction_id)
            .values(
                amount=-kept,
                balance_after=after + expired,
                description=operation,
                details={**details, **note, "state": "settled", "charged_from_grant": kept_from_grant},
            )
        )
    if expired:
        ex.execute(
            T.insert().values(
                organization_id=org_id,
                type=SUBSCRIPTION_GRANT,
                amount=-expired,
                balance_after=after,
                description=f"{expired} reserved plan credits expired with their period",
                details={"expired": expired, "usage_transaction": transaction_id},
                created_at=now,
            )
        )
    return kept


def settle(
    org_id: int, transaction_id: int, reserved: int, actual: int, operation: str, tokens: dict, *, conn=None
) -> int:
    """Keep what the request really cost (never more than reserved) and give the rest back to its bucket.

    With ``conn`` (the session, say) it is part of that transaction: the charge commits with whatever
    the caller stores, or not at all. Settling a closed reservation (settled or refunded already)
    changes nothing and answers 0."""
    if conn is not None:
        kept = _give_back(conn, org_id, transaction_id, actual, operation, tokens)
    else:
        with db.engine.begin() as own:
            kept = _give_back(own, org_id, transaction_id, actual, operation, tokens)
    return 0 if kept is None else kept


def refund(org_id: int, transaction_id: int, reserved: int, operation: str, reason: str) -> bool:
    """The request failed (or its answer was not stored): every reserved credit goes back to its bucket,
    and the history says why. Refunding a reservation already settled or refunded does nothing."""
    with db.engine.begin() as conn:
        return _give_back(conn, org_id, transaction_id, None, operation, {"reason": reason}) is not None


def reservation_open(transaction_id: int) -> bool:
    details = db.session.scalar(select(T.c.details).where(T.c.id == transaction_id))
    return (details or {}).get("state") == "reserved"


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
        raise DomainError(N_("Unknown kind of credit change."))
    balance = balance_of(org, in_session=True)
    if amount == 0:
        raise DomainError(N_("Enter a number of credits other than zero."), field="amount")
    if amount < 0 and type_ != ADMIN_ADJUSTMENT:
        raise DomainError(N_("Only an admin adjustment can remove credits."), field="amount")
    stmt = update(AiCreditBalance).where(AiCreditBalance.id == balance.id)
    if amount < 0:
        stmt = stmt.where(AiCreditBalance.balance >= -amount)
    values = {"balance": AiCreditBalance.balance + amount, "updated_at": utcnow()}
    if amount < 0:  # the grant part never exceeds what is left
        values["grant_remaining"] = case(
            (AiCreditBalance.grant_remaining > AiCreditBalance.balance + amount, AiCreditBalance.balance + amount),
            else_=AiCreditBalance.grant_remaining,
        )
    if type_ == SUBSCRIPTION_GRANT and amount > 0:  # plan credits stay expiring
        values["grant_remaining"] = AiCreditBalance.grant_remaining + amount
    if type_ == PURCHASE:
        values["total_purchased"] = AiCreditBalance.total_purchased + amount
    changed = rowcount(db.session.execute(stmt.values(**values).execution_options(synchronize_session=False)))
    if changed != 1:
        raise Conflict(N_("The balance is smaller than that adjustment."), code="insufficient_credits")
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
        raise DomainError(N_("Say why."), field="reason")
    if type_ not in (BONUS, ADMIN_ADJUSTMENT):
        raise DomainError(N_("Choose bonus or admin adjustment."), field="type")
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
    changed = rowcount(
        db.session.execute(
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
        )
    )
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
        raise DomainError(N_("Choose between 1 and 100 packs."), field="packs")
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
    from webapp.billing import services as billing

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
    claimed = rowcount(
        db.session.execute(
            update(AiCreditPurchase)
            .where(AiCreditPurchase.id == purchase.id, AiCreditPurchase.status == AiCreditPurchase.PENDING)
            .values(status=AiCreditPurchase.PAID, paid_at=utcnow())
            .execution_options(synchronize_session=False)
        )
    )
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
