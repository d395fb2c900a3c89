"""Saved cards and automatic collection: through our pages, Stripe's hosted setup page in the
sandbox, the collection job, and the retry schedule over days (time-machine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from tests.billing.helpers import mail_with, make_invoice, org_with_owner, staff_user
from tests.billing.stripe_helpers import FAILS_LATER, GOOD, save_card
from tests.factories import add_member, make_user
from webapp.audit.models import AuditEntry
from webapp.billing.models import Invoice, Payment
from webapp.billing.payment_jobs import card_expiry_notices, collect_due_invoices
from webapp.billing.payment_models import CollectionAttempt, PaymentMethod
from webapp.extensions import db
from webapp.integrations.providers.stripe import stripe_client


def _owner_client(client, email="owner@example.com"):
    org, owner = org_with_owner(email)
    client.login(owner.email)
    return org, owner


def test_add_list_default_and_remove_cards(ctx, client):
    org, _ = _owner_client(client)
    first = save_card(client, org, GOOD, "12/40")
    assert (first.card_brand, first.card_last4, first.card_exp_month, first.card_exp_year) == ("visa", "4242", 12, 2040)
    assert first.is_default and first.stripe_payment_method_id.startswith("pm_")
    second = save_card(client, org, "5555 5555 5555 4444", "03/41")
    assert not db.session.get(PaymentMethod, second.id).is_default
    page = client.get(f"/o/{org.slug}/billing/payment-methods").get_data(as_text=True)
    assert "Visa •••• 4242" in page and "12/2040" in page and "Mastercard •••• 4444" in page and "03/2041" in page
    assert "4242 4242" not in page  # never a card number
    response = client.post(f"/o/{org.slug}/billing/payment-methods/{second.id}/default")
    assert response.status_code == 303
    db.session.expire_all()
    assert (
        db.session.get(PaymentMethod, second.id).is_default and not db.session.get(PaymentMethod, first.id).is_default
    )
    stripe = stripe_client()
    customer = stripe.v1.customers.retrieve(
        stripe.v1.payment_methods.retrieve(second.stripe_payment_method_id).customer
    )
    assert customer.invoice_settings.default_payment_method == second.stripe_payment_method_id
    response = client.post(f"/o/{org.slug}/billing/payment-methods/{first.id}/remove")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(PaymentMethod, first.id).status == "REMOVED"
    assert stripe_client().v1.payment_methods.retrieve(first.stripe_payment_method_id).customer is None  # detached
    listing = client.get(f"/o/{org.slug}/billing/payment-methods").get_data(as_text=True)
    assert f'id="payment-method-{first.id}"' not in listing and f'id="payment-method-{second.id}"' in listing
    assert (
        client.post(f"/o/{org.slug}/billing/payment-methods/{first.id}/remove").status_code == 303
    )  # refused, flashed
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("payment_method.%"))))
    assert {"payment_method.added", "payment_method.default_set", "payment_method.removed"} <= actions


def test_stripe_refusing_a_default_card_is_a_message_not_a_500(ctx, client):
    from webapp.billing.payment_models import ProviderCustomer

    org, _ = _owner_client(client)
    first = save_card(client, org, GOOD, "12/40")
    second = save_card(client, org, "5555 5555 5555 4444", "03/41")
    customer = db.session.scalar(select(ProviderCustomer).where(ProviderCustomer.organization_id == org.id))
    customer.customer_id = "cus_unknown_to_stripe"
    db.session.commit()
    response = client.post(f"/o/{org.slug}/billing/payment-methods/{second.id}/default")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Stripe could not make that card the default" in page
    db.session.expire_all()
    assert db.session.get(PaymentMethod, first.id).is_default
    assert not db.session.get(PaymentMethod, second.id).is_default


def test_only_owners_and_billing_members_manage_cards(ctx, make_client):
    org, _ = org_with_owner()
    billing_member, admin, member = make_user(), make_user(), make_user()
    add_member(org, billing_member, "BILLING")
    add_member(org, admin, "ADMIN")
    add_member(org, member, "MEMBER")
    for user, code in ((billing_member, 200), (admin, 403), (member, 403)):
        browser = make_client()
        browser.login(user.email)
        assert browser.get(f"/o/{org.slug}/billing/payment-methods").status_code == code
        assert browser.post(f"/o/{org.slug}/billing/payment-methods/new").status_code == (303 if code == 200 else 403)
    other, _ = org_with_owner()
    stranger = make_client()
    stranger.login(billing_member.email)  # a billing member here is nobody in the other organization
    assert stranger.get(f"/o/{other.slug}/billing/payment-methods").status_code == 404


def test_a_finalized_invoice_is_charged_to_the_default_card(ctx, client, run_jobs, mailbox):
    org, _ = _owner_client(client, "shop@example.com")
    card = save_card(client, org, GOOD)
    invoice = make_invoice(org, lines=((1, 10_000),))  # finalize -> invoice.issued -> the collection job
    run_jobs()
    db.session.expire_all()
    invoice = db.session.get(Invoice, invoice.id)
    assert invoice.status == "PAID" and invoice.amount_paid == 11_500
    attempt = db.session.scalar(select(CollectionAttempt))
    assert (attempt.number, attempt.status, attempt.payment_method_id) == (1, "SUCCEEDED", card.id)
    payment = db.session.get(Payment, attempt.payment_id)
    assert payment.provider == "stripe" and payment.external_reference.startswith("pi_")
    intent = stripe_client().v1.payment_intents.retrieve(payment.external_reference)
    assert intent.payment_method == card.stripe_payment_method_id and intent.amount == 11_500
    mail_with(mailbox, "shop@example.com", "is paid")
    page = client.get(f"/o/{org.slug}/billing/invoices/{invoice.id}").get_data(as_text=True)
    assert "Automatic collection" in page and "Succeeded" in page
    audit = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("collection.%"))))
    assert audit == {"collection.attempted", "collection.succeeded"}
    collect_due_invoices()  # nothing more to do: a paid invoice is never charged again
    assert db.session.scalar(select(func.count()).select_from(CollectionAttempt)) == 1


def test_a_failing_card_is_retried_on_schedule_then_dunning_takes_over(ctx, client, run_jobs, mailbox, make_client):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=True):
        org, _ = _owner_client(client, "late@example.com")
        save_card(client, org, FAILS_LATER)  # saving works; every charge is declined
        invoice = make_invoice(org, lines=((1, 10_000),))
        run_jobs()
        attempts = db.session.scalars(select(CollectionAttempt)).all()
        assert [(a.number, a.status) for a in attempts] == [(1, "FAILED")]
        assert attempts[0].error_code == "generic_decline" and attempts[0].error_message == "Your card was declined."
        assert attempts[0].next_attempt_at.date() == (start + timedelta(days=3)).date()
        message = mail_with(mailbox, "late@example.com", "We could not charge")
        assert f"/pay/{db.session.get(Invoice, invoice.id).payment_token}" in mailbox.text(message)
    for day, expected in ((2, 1), (3, 2), (4, 2), (5, 3), (7, 4), (12, 4)):
        with time_machine.travel(start + timedelta(days=day, hours=1), tick=True):
            collect_due_invoices()
            run_jobs()
            db.session.expire_all()
            attempts = db.session.scalars(select(CollectionAttempt).order_by(CollectionAttempt.number)).all()
            assert len(attempts) == expected, (day, [(a.number, a.status) for a in attempts])
    assert [a.status for a in attempts] == ["FAILED"] * 4
    assert [a.next_attempt_at.date() if a.next_attempt_at else None for a in attempts] == [
        (start + timedelta(days=d)).date() for d in (3, 5, 7)
    ] + [None]
    assert db.session.get(Invoice, invoice.id).status in ("ISSUED", "OVERDUE")
    assert len([m for m in mailbox.to("late@example.com") if "We could not charge" in m["Subject"]]) == 4
    assert "We will not try the card again" in mailbox.text(
        mail_with(mailbox, "late@example.com", "We could not charge")
    )
    staff = make_client()
    staff.login(staff_user().email)
    page = staff.get(f"/admin/invoices/{invoice.id}").get_data(as_text=True)
    assert page.count("Your card was declined.") == 4 and "no more retries" in page
    failures = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "collection.failed")
    assert db.session.scalar(failures) == 4


def test_staff_charge_now_and_a_new_default_card_pays(ctx, client, run_jobs, make_client):
    org, _ = _owner_client(client)
    save_card(client, org, FAILS_LATER)
    invoice = make_invoice(org)
    run_jobs()
    good = save_card(client, org, GOOD)
    client.post(f"/o/{org.slug}/billing/payment-methods/{good.id}/default")
    staff = make_client()
    staff.login(staff_user().email)
    response = staff.post(f"/admin/invoices/{invoice.id}/collect")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "PAID"
    assert [a.status for a in db.session.scalars(select(CollectionAttempt).order_by(CollectionAttempt.number))] == [
        "FAILED",
        "SUCCEEDED",
    ]
    again = staff.post(f"/admin/invoices/{invoice.id}/collect", follow_redirects=True)
    assert "Nothing to charge" in again.get_data(as_text=True)


def test_the_customer_pays_an_invoice_with_a_saved_card(ctx, client):
    org, _ = _owner_client(client)
    card = save_card(client, org, GOOD)
    card.is_default = False  # not collected automatically: the customer pays by hand
    db.session.commit()
    invoice = make_invoice(org)
    response = client.post(f"/o/{org.slug}/billing/invoices/{invoice.id}/pay-saved/{card.id}", follow_redirects=True)
    assert "was charged 115.00 USD" in response.get_data(as_text=True)
    assert db.session.get(Invoice, invoice.id).status == "PAID"


def test_cards_about_to_expire_are_notified_once(ctx, client, mailbox, run_jobs):
    with time_machine.travel(datetime(2026, 11, 20, 8, tzinfo=UTC), tick=True):
        org, _ = _owner_client(client, "cards@example.com")
        soon = save_card(client, org, GOOD, "12/26")
        save_card(client, org, "5555 5555 5555 4444", "12/30")
        assert card_expiry_notices() == 1
        assert card_expiry_notices() == 0
        db.session.commit()
        run_jobs()
        message = mail_with(mailbox, "cards@example.com", "expires on 31 Dec 2026")
        assert "Visa •••• 4242" in message["Subject"]
        assert db.session.get(PaymentMethod, soon.id).expiry_notice_sent_at is not None


def test_a_failed_first_charge_makes_the_subscription_incomplete_and_a_renewal_past_due(ctx, client, run_jobs):
    from webapp.billing import services as billing
    from webapp.subscriptions import billing_bridge
    from webapp.subscriptions.catalog import ensure_catalog, plan_by_code
    from webapp.subscriptions.services import change_plan, current_subscription

    org, owner = _owner_client(client)
    save_card(client, org, FAILS_LATER)
    ensure_catalog()
    sub = current_subscription(org)
    change_plan(sub, plan_by_code("TEAM_STANDARD"), "MONTHLY", owner)  # FREE -> paid: the first invoice
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    sub = current_subscription(org)
    assert sub.status == "INCOMPLETE"
    first = db.session.get(Invoice, sub.last_invoice_id)
    billing.record_manual_payment(first, None, first.amount_due, "BANK_TRANSFER", "EFT-1")
    db.session.commit()
    assert current_subscription(org).status == "ACTIVE"
    billing_bridge.invoice_subscription(
        sub,
        [("Team Standard plan, monthly", 1, sub.amount)],
        period_start=first.period_end,
        period_end=first.period_end,
    )
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    assert current_subscription(org).status == "PAST_DUE"
