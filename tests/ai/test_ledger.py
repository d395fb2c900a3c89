"""The AI credit ledger adds up: plan-grant (expiring) and permanent credits stay apart through
reserve, settle, refund and expiry, and a charge exists only with the answer it paid for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.factories import make_org, make_user
from tests.races import lose_commits
from webapp.ai import credits
from webapp.ai.models import (
    PURCHASE,
    SUBSCRIPTION_GRANT,
    AiChatMessage,
    AiCreditBalance,
    AiCreditTransaction,
    AiUsageLog,
)
from webapp.core.errors import DomainError
from webapp.extensions import db
from webapp.integrations.models import OutboundCall

DB_EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _balance(org) -> AiCreditBalance:
    db.session.expire_all()
    return db.session.scalar(select(AiCreditBalance).where(AiCreditBalance.organization_id == org.id))


def _buckets(org) -> tuple[int, int]:
    row = _balance(org)
    return row.grant_remaining, row.balance - row.grant_remaining


def _ledger_sum(org) -> int:
    return db.session.scalar(
        select(func.coalesce(func.sum(AiCreditTransaction.amount), 0)).where(
            AiCreditTransaction.organization_id == org.id
        )
    )


def _org_with(grant: int, permanent: int):
    """An organization whose plan grant part is ``grant`` and whose permanent part is ``permanent``."""
    owner = make_user()
    org = make_org(owner)
    row = credits.balance_of(org)
    db.session.execute(
        AiCreditBalance.__table__.update()
        .where(AiCreditBalance.id == row.id)
        .values(balance=0, grant_remaining=0, period_grant=grant)
    )
    db.session.execute(AiCreditTransaction.__table__.delete().where(AiCreditTransaction.organization_id == org.id))
    if grant:
        credits.add_credits(org, grant, SUBSCRIPTION_GRANT, None, "Plan grant")
    if permanent:
        credits.add_credits(org, permanent, PURCHASE, None, "Bought")
    db.session.commit()
    return owner, org


def _reserve(org, cost):
    return credits.reserve(org.id, cost, user_id=None, service="CHAT_ASSISTANT", operation="chat")


# --- buckets ---------------------------------------------------------------------------------------


def test_settle_gives_the_unused_grant_part_back_to_the_grant(ctx):
    _, org = _org_with(grant=100, permanent=500)
    txn = _reserve(org, 60)
    assert _buckets(org) == (40, 500)  # the grant is spent first
    assert credits.settle(org.id, txn, 60, 10, "chat", {}) == 10
    db.session.commit()
    assert _buckets(org) == (90, 500)  # not 40 + 550: expiring credits did not turn permanent
    assert _ledger_sum(org) == _balance(org).balance


def test_a_reservation_across_both_buckets_returns_each_part_to_its_own(ctx):
    _, org = _org_with(grant=30, permanent=500)
    txn = _reserve(org, 80)
    assert _buckets(org) == (0, 450)
    credits.settle(org.id, txn, 80, 50, "chat", {})  # 30 from the grant, 20 permanent kept
    assert _buckets(org) == (0, 480)
    txn = _reserve(org, 100)
    credits.refund(org.id, txn, 100, "chat", "failed")
    assert _buckets(org) == (0, 480)
    _, org = _org_with(grant=30, permanent=500)
    txn = _reserve(org, 80)
    credits.refund(org.id, txn, 80, "chat", "failed")
    assert _buckets(org) == (30, 500)
    assert not credits.refund(org.id, txn, 80, "chat", "again")  # a second refund changes nothing
    assert credits.settle(org.id, txn, 80, 80, "chat", {}) == 0  # nor does settling a refunded one
    assert _buckets(org) == (30, 500) and _ledger_sum(org) == 530


def test_expiry_removes_only_expiring_credits_and_an_inflight_grant_part_expires_with_its_period(ctx):
    _, org = _org_with(grant=100, permanent=500)
    txn = _reserve(org, 60)  # 60 from this period's grant
    row = _balance(org)
    assert credits.reset_period(row, org, row.next_reset + timedelta(minutes=1))
    db.session.commit()
    new_grant = _balance(org).period_grant
    assert _buckets(org) == (new_grant, 500)  # the 40 left expired; the permanent 500 did not
    credits.refund(org.id, txn, 60, "chat", "failed")
    # the refunded 60 belonged to the ended period: they expire instead of joining the new grant
    assert _buckets(org) == (new_grant, 500)
    expired = db.session.scalars(
        select(AiCreditTransaction).where(
            AiCreditTransaction.organization_id == org.id,
            AiCreditTransaction.type == SUBSCRIPTION_GRANT,
            AiCreditTransaction.amount == -60,
        )
    ).one()
    assert expired.details == {"expired": 60, "usage_transaction": txn}
    assert _ledger_sum(org) == _balance(org).balance


# --- property: random sequences keep the invariants -----------------------------------------------

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.integers(1, 500)),
        st.tuples(st.just("purchase"), st.integers(1, 500)),
        st.tuples(st.just("reserve"), st.integers(1, 400)),
        st.tuples(st.just("settle"), st.integers(0, 20), st.floats(0, 1)),
        st.tuples(st.just("refund"), st.integers(0, 20)),
        st.tuples(st.just("expire")),
    ),
    max_size=25,
)


@DB_EXAMPLES
@given(start_grant=st.integers(0, 300), start_permanent=st.integers(0, 300), ops=OPS)
def test_random_ledger_sequences_keep_the_invariants(ctx, start_grant, start_permanent, ops):
    _, org = _org_with(start_grant, start_permanent)
    granted, purchased, charged, expired, permanent_charged, period = start_grant, start_permanent, 0, 0, 0, 0
    # open reservations: (transaction id, reserved, taken from the grant, period it was taken in)
    open_reservations: list[tuple[int, int, int, int]] = []

    for op in ops:
        kind = op[0]
        grant_before, permanent_before = _buckets(org)
        if kind == "grant":
            credits.add_credits(org, op[1], SUBSCRIPTION_GRANT, None, "Plan grant")
            db.session.commit()
            granted += op[1]
            assert _buckets(org) == (grant_before + op[1], permanent_before)
        elif kind == "purchase":
            credits.add_credits(org, op[1], PURCHASE, None, "Bought")
            db.session.commit()
            purchased += op[1]
            assert _buckets(org) == (grant_before, permanent_before + op[1])
        elif kind == "reserve":
            txn = _reserve(org, op[1])
            if grant_before + permanent_before < op[1]:
                assert txn is None and _buckets(org) == (grant_before, permanent_before)
            else:
                taken = min(grant_before, op[1])  # the grant is spent first
                open_reservations.append((txn, op[1], taken, period))
                assert _buckets(org) == (grant_before - taken, permanent_before - (op[1] - taken))
        elif kind in ("settle", "refund") and open_reservations:
            txn, reserved, from_grant, taken_in = open_reservations.pop(op[1] % len(open_reservations))
            keep = round(reserved * op[2]) if kind == "settle" else 0
            if kind == "settle":
                assert credits.settle(org.id, txn, reserved, keep, "chat", {}, conn=db.session) == keep
                db.session.commit()
            else:
                assert credits.refund(org.id, txn, reserved, "chat", "failed")
            kept_from_grant = min(keep, from_grant)
            back_to_grant = from_grant - kept_from_grant
            if taken_in != period:  # its period ended meanwhile: that part expires instead
                expired, back_to_grant = expired + back_to_grant, 0
            charged += keep
            permanent_charged += keep - kept_from_grant
            assert _buckets(org) == (
                grant_before + back_to_grant,
                permanent_before + (reserved - from_grant) - (keep - kept_from_grant),
            )
        elif kind == "expire":
            row = _balance(org)
            assert credits.reset_period(row, org, row.next_reset + timedelta(minutes=1))
            db.session.commit()
            period += 1
            expired += grant_before
            granted += _balance(org).period_grant
            assert _buckets(org) == (_balance(org).period_grant, permanent_before)  # permanent untouched

        row = _balance(org)
        grant_now, permanent_now = row.grant_remaining, row.balance - row.grant_remaining
        held = sum(r[1] for r in open_reservations)
        held_permanent = sum(r[1] - r[2] for r in open_reservations)
        assert grant_now >= 0 and permanent_now >= 0
        # expiring credits never become permanent: the permanent part is exactly what was bought, less
        # what was charged or is held from it
        assert permanent_now == purchased - permanent_charged - held_permanent
        assert row.balance + held == granted + purchased - charged - expired
        assert _ledger_sum(org) == row.balance  # the history adds up to the balance


# --- through the routes ----------------------------------------------------------------------------


def _chat_org(client, grant=200, permanent=1000):
    owner, org = _org_with(grant, permanent)
    client.login(owner.email)
    return owner, org


def _messages(org) -> int:
    return db.session.scalar(
        select(func.count()).select_from(AiChatMessage).where(AiChatMessage.organization_id == org.id)
    )


def _ai_calls() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboundCall).where(OutboundCall.provider == "ai"))


def test_a_failing_provider_charges_nothing_and_stores_nothing(client, ctx):
    _, org = _chat_org(client)
    before = _buckets(org)
    answer = client.post(f"/o/{org.slug}/ai/chat", {"question": "Why? [sandbox:fail]"})
    assert answer.status_code == 422 and "refunded" in answer.get_data(as_text=True)
    assert _buckets(org) == before and _messages(org) == 0
    assert _ledger_sum(org) == _balance(org).balance
    assert not db.session.scalars(select(AiUsageLog)).one().success


@pytest.mark.parametrize("failure", ["refusal", "crash"])
def test_an_answer_that_is_not_stored_is_not_charged(client, ctx, monkeypatch, failure):
    """The provider answered and the charge was written, but storing fails after it: the charge goes
    with the messages (nothing committed) and the reservation is refunded when the request ends."""
    from webapp.ai import services

    _, org = _chat_org(client)
    before = _buckets(org)
    original = services.AiAnswer.charge

    def charge_then_fail(self):
        original(self)
        if failure == "refusal":
            raise DomainError("Storing failed.", field="question")
        raise RuntimeError("the store went away")

    monkeypatch.setattr(services.AiAnswer, "charge", charge_then_fail)
    if failure == "refusal":
        answer = client.post(f"/o/{org.slug}/ai/chat", {"question": "Will this be kept?"})
        assert answer.status_code == 422 and "Storing failed." in answer.get_data(as_text=True)
    else:
        with pytest.raises(RuntimeError, match="store went away"):
            client.post(f"/o/{org.slug}/ai/chat", {"question": "Will this be kept?"})
    assert _ai_calls() == 1  # the provider did answer
    assert _buckets(org) == before and _messages(org) == 0
    usage = db.session.scalars(select(AiCreditTransaction).where(AiCreditTransaction.type == "USAGE")).one()
    assert usage.details["state"] == "refunded"
    assert _ledger_sum(org) == _balance(org).balance
    assert [log.success for log in db.session.scalars(select(AiUsageLog))] == [False]


def test_a_retried_chat_asks_the_provider_once_and_charges_once(client, ctx, monkeypatch):
    _, org = _chat_org(client)
    grant, permanent = _buckets(org)
    lost = lose_commits(monkeypatch)
    answer = client.post(f"/o/{org.slug}/ai/chat", {"question": "Once, please."})
    assert answer.status_code == 303 and lost
    assert _ai_calls() == 1 and _messages(org) == 2
    usage = db.session.scalars(select(AiCreditTransaction).where(AiCreditTransaction.type == "USAGE")).one()
    assert usage.details["state"] == "settled" and usage.amount < 0
    assert sum(_buckets(org)) == grant + permanent + usage.amount
    assert db.session.scalar(select(func.count()).select_from(AiUsageLog)) == 1


def test_a_retried_workflow_draft_asks_the_provider_once(client, ctx, monkeypatch):
    _, org = _chat_org(client)
    before = sum(_buckets(org))
    lost = lose_commits(monkeypatch)
    answer = client.post(f"/o/{org.slug}/workflows/draft", {"description": "When a video is ready, post to slack"})
    assert answer.status_code == 303 and lost
    assert _ai_calls() == 1
    usage = db.session.scalars(select(AiCreditTransaction).where(AiCreditTransaction.type == "USAGE")).one()
    assert usage.details["state"] == "settled"
    assert sum(_buckets(org)) == before + usage.amount
