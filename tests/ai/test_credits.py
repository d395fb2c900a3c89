"""AI credits: reserve → settle → refund through real HTTP to the sandbox, purchases, resets, staff."""

import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.factories import make_org, make_user
from webapp.ai import credits
from webapp.ai.models import AiCreditBalance, AiCreditPurchase, AiCreditTransaction, AiUsageLog
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.integrations.models import OutboundCall


def _setup(client, bonus=1000):
    owner = make_user()
    org = make_org(owner)
    client.login(owner.email)
    credits.balance_of(org)
    if bonus:
        credits.adjust(org, owner, bonus, "BONUS", "Test credits")
    db.session.commit()
    return owner, org


def _balance(org) -> AiCreditBalance:
    db.session.expire_all()
    return db.session.scalar(select(AiCreditBalance).where(AiCreditBalance.organization_id == org.id))


def test_chat_reserves_settles_on_real_tokens_and_logs(client, ctx):
    _, org = _setup(client)
    before = _balance(org).balance
    page = client.get(f"/o/{org.slug}/ai/chat")
    assert page.status_code == 200
    asked = client.post(f"/o/{org.slug}/ai/chat", {"question": "How do I retry a failed workflow run?"})
    assert asked.status_code == 303
    conversation = client.get(f"/o/{org.slug}/ai/chat").get_data(as_text=True)
    assert "You asked: “How do I retry a failed workflow run?”" in conversation

    usage = db.session.scalars(select(AiUsageLog)).one()
    assert usage.success and usage.service == "CHAT_ASSISTANT" and usage.operation == "chat"
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert 0 < usage.credits_used < usage.credits_reserved  # reserved the most it could cost, kept the real cost
    assert _balance(org).balance == before - usage.credits_used
    txn = db.session.scalars(select(AiCreditTransaction).where(AiCreditTransaction.type == "USAGE")).one()
    assert txn.amount == -usage.credits_used and txn.details["state"] == "settled"
    call = db.session.scalars(select(OutboundCall).where(OutboundCall.provider == "ai")).one()
    assert call.success and call.endpoint.endswith("/sandbox/ai/v1/chat/completions")

    overview = client.get(f"/o/{org.slug}/ai/").get_data(as_text=True)
    assert "Chat assistant" in overview and "<svg" in overview and "Usage log" in overview
    assert f"{usage.credits_used}</text>" in overview  # the bar's label in the chart


def test_failure_refunds_everything(client, ctx):
    _, org = _setup(client)
    before = _balance(org).balance
    answer = client.post(f"/o/{org.slug}/ai/chat", {"question": "Please [sandbox:fail] now"})
    assert answer.status_code == 422 and "refunded" in answer.get_data(as_text=True)
    assert _balance(org).balance == before
    kinds = [
        (t.type, t.amount)
        for t in db.session.scalars(
            select(AiCreditTransaction)
            .where(AiCreditTransaction.type.in_(("USAGE", "REFUND")))
            .order_by(AiCreditTransaction.id)
        )
    ]
    assert kinds[0][0] == "USAGE" and kinds[1] == ("REFUND", -kinds[0][1])
    usage = db.session.scalars(select(AiUsageLog)).one()
    assert not usage.success and usage.credits_used == 0 and "500" in usage.error_message


def test_insufficient_balance_is_refused_without_going_negative(client, ctx):
    owner, org = _setup(client, bonus=0)
    balance = _balance(org)
    credits.adjust(org, owner, -balance.balance + 2, "ADMIN_ADJUSTMENT", "Leave two credits")
    db.session.commit()
    refused = client.post(f"/o/{org.slug}/ai/chat", {"question": "Anything?"})
    assert refused.status_code == 422 and "Not enough AI credits" in refused.get_data(as_text=True)
    assert _balance(org).balance == 2
    with pytest.raises(Exception, match="smaller than that adjustment"):
        credits.adjust(org, owner, -3, "ADMIN_ADJUSTMENT", "Too much")
    db.session.rollback()
    assert _balance(org).balance == 2


@pytest.mark.postgres
def test_twenty_concurrent_requests_never_overdraw(app, ctx, live_server):
    """20 threads ask at once over real HTTP; the balance covers only some. None may overdraw it."""
    from webapp.ai.services import ask

    owner = make_user()
    org = make_org(owner)
    balance = credits.balance_of(org)
    db.session.commit()
    credits.adjust(org, owner, 50 - balance.balance, "ADMIN_ADJUSTMENT", "Exactly fifty")
    db.session.commit()
    org_id = org.id
    results, errors = [], []
    barrier = threading.Barrier(20)

    def worker():
        with app.app_context():
            from webapp.orgs.models import Organization

            mine = db.session.get(Organization, org_id)
            db.session.commit()  # hand the connection back: 20 threads share one pool
            barrier.wait(timeout=30)
            try:
                answer = ask(
                    mine,
                    None,
                    "CHAT_ASSISTANT",
                    "org_chat",
                    {"org_name": "x", "question": "[sandbox:slow] status?"},
                    operation="chat",
                )
                answer.charge()  # outside a request: the caller charges in its transaction, commits, releases
                db.session.commit()
                assert not answer.release()  # the charge committed: nothing to refund
                results.append(answer.credits)
            except Exception as error:  # LimitExceeded for the ones that did not fit
                errors.append(type(error).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    final = _balance(org)
    assert final.balance >= 0
    assert len(results) + len(errors) == 20 and set(errors) <= {"LimitExceeded"}
    assert len(results) >= 1 and errors  # some fit, some were refused
    assert final.balance == 50 - sum(results)
    usage = db.session.scalars(select(AiUsageLog).where(AiUsageLog.organization_id == org.id)).all()
    assert len(usage) == len(results)


def test_purchase_invoices_then_grants_only_when_paid(client, make_client, ctx):
    _, org = _setup(client, bonus=0)
    before = _balance(org).balance
    bought = client.post(f"/o/{org.slug}/ai/purchase", {"packs": "2"})
    assert bought.status_code == 303
    purchase = db.session.scalars(select(AiCreditPurchase)).one()
    assert purchase.status == "PENDING" and purchase.invoice_id and purchase.credits == 2000
    assert _balance(org).balance == before  # not before it is paid

    from webapp.billing.models import Invoice
    from webapp.billing.services import apply_payment

    invoice = db.session.get(Invoice, purchase.invoice_id)
    assert invoice.status == "ISSUED" and invoice.subtotal == 2000  # two packs at 10.00, plus tax
    apply_payment(invoice, invoice.total, "BANK_TRANSFER", actor=None, external_reference="bank-1")
    db.session.commit()
    assert _balance(org).balance == before + 2000
    assert _balance(org).total_purchased == 2000
    # a repeated event grants nothing twice
    from webapp.core.events import emit

    emit("invoice.paid", org=org, invoice_id=invoice.id)
    db.session.commit()
    assert _balance(org).balance == before + 2000
    # a member (no billing permission) cannot buy
    from tests.factories import add_member

    member = make_user()
    add_member(org, member, "MEMBER")
    member_client = make_client()
    member_client.login(member.email)
    assert member_client.post(f"/o/{org.slug}/ai/purchase", {"packs": "1"}).status_code == 403


def test_period_reset_expires_unused_grant_and_keeps_purchased(client, ctx):
    owner, org = _setup(client, bonus=0)
    balance = _balance(org)
    grant = balance.period_grant
    credits.adjust(org, owner, 500, "BONUS", "Launch bonus")
    db.session.commit()
    from webapp.ai.jobs import reset_ai_credit_periods

    assert reset_ai_credit_periods() == 0
    with time_machine.travel(balance.next_reset + timedelta(minutes=1)):
        assert reset_ai_credit_periods() == 1
        assert reset_ai_credit_periods() == 0
        now = utcnow()
    balance = _balance(org)
    assert balance.balance == grant + 500 and balance.grant_remaining == grant
    assert balance.last_reset <= now < balance.next_reset
    grant_rows = db.session.scalars(
        select(AiCreditTransaction)
        .where(AiCreditTransaction.type == "SUBSCRIPTION_GRANT")
        .order_by(AiCreditTransaction.id)
    ).all()
    assert len(grant_rows) == 2 and grant_rows[1].details == {"grant": grant, "expired": grant}


def test_staff_adjust_credits_and_edit_prompts(client, make_client, ctx):
    _, org = _setup(client, bonus=0)
    staff = make_user(staff=True)
    staff_client = make_client()
    staff_client.login(staff.email)
    assert client.get("/admin/ai-credits").status_code == 404
    no_reason = staff_client.post(
        "/admin/ai-credits", {"org_slug": org.slug, "type": "BONUS", "amount": "25", "reason": ""}
    )
    assert no_reason.status_code == 422
    ok = staff_client.post(
        "/admin/ai-credits", {"org_slug": org.slug, "type": "BONUS", "amount": "25", "reason": "Sorry for the outage"}
    )
    assert ok.status_code == 303
    txn = db.session.scalars(select(AiCreditTransaction).where(AiCreditTransaction.type == "BONUS")).one()
    assert txn.amount == 25 and txn.description == "Sorry for the outage" and txn.user_id == staff.id

    listing = staff_client.get("/admin/ai-prompts").get_data(as_text=True)
    for service in (
        "Task generation",
        "Smart notifications",
        "Project analysis",
        "Chat assistant",
        "Document analysis",
        "Workflow optimization",
    ):
        assert service in listing
    from webapp.ai.models import AiPromptTemplate

    prompt = db.session.scalar(select(AiPromptTemplate).where(AiPromptTemplate.key == "org_chat"))
    broken = staff_client.post(
        f"/admin/ai-prompts/{prompt.id}",
        {
            "name": "Assistant",
            "system_prompt": "Hi {{ org_name",
            "user_template": "{{ question }}",
            "max_tokens": "300",
            "is_active": "y",
        },
    )
    assert broken.status_code == 422 and "Template error" in broken.get_data(as_text=True)
    staff_client.post(
        f"/admin/ai-prompts/{prompt.id}",
        {
            "name": "Assistant",
            "system_prompt": "Be brief for {{ org_name }}.",
            "user_template": "{{ question }}",
            "max_tokens": "300",
            "is_active": "",
        },
    )
    db.session.expire_all()
    assert db.session.get(AiPromptTemplate, prompt.id).version == 2
    off = client.post(f"/o/{org.slug}/ai/chat", {"question": "Hello?"})
    assert off.status_code == 422 and "switched off" in off.get_data(as_text=True)
