"""The whole loop: link → sign-up → the referred organization's first paid invoice → reward → payout."""

from datetime import date

from sqlalchemy import select

from tests.factories import PASSWORD, make_org, make_user
from webapp.auth.models import User
from webapp.billing import services as billing
from webapp.billing.models import Credit
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.referrals.models import Referral, ReferralPayout, ReferralProgram
from webapp.settings.services import update_setting


def _paid_invoice(org, staff, amount):
    account = billing.billing_account_for(org)
    invoice = billing.create_draft_invoice(account, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30))
    billing.add_line_item(invoice, "POS terminal rental", 1, amount)
    billing.finalize_invoice(invoice, staff)
    billing.record_manual_payment(invoice, staff, invoice.total, "BANK_TRANSFER", f"REF-{invoice.id}")
    db.session.commit()
    return invoice


def test_referral_loop_through_sign_up_first_payment_and_store_credit_payout(
    client, make_client, ctx, mailbox, run_jobs
):
    referrer = make_user("ambassador@example.com")
    shop = make_org(referrer, "Ambassador Shop", "ambassador-shop")
    staff = make_user("finance@tessera.example", staff=True)
    update_setting("referrals.reward_type", "percent", staff)
    update_setting("referrals.reward_percent_bps", "1000", staff)  # 10 % of the first paid invoice
    update_setting("referrals.payout_minimum_cents", "500", staff)
    db.session.commit()

    client.login(referrer.email)
    client.post(f"/o/{shop.slug}/referrals/open")
    program = db.session.scalar(select(ReferralProgram))

    newcomer = make_client()
    newcomer.get(f"/r/{program.code}?utm_source=whatsapp")
    assert newcomer.post("/auth/signup", {"email": "newshop@example.com", "password": PASSWORD}).status_code == 303
    referee = db.session.scalar(select(User).where(User.email == "newshop@example.com"))
    personal = db.session.scalar(select(Membership).where(Membership.user_id == referee.id)).organization
    referral = db.session.scalar(select(Referral))
    assert (referral.status, referral.source) == ("SIGNED_UP", "whatsapp")

    first = _paid_invoice(personal, staff, 10000)
    db.session.refresh(referral)
    db.session.refresh(program)
    assert referral.status == "CONFIRMED" and referral.confirming_invoice_id == first.id
    assert referral.reward_amount == first.total // 10
    assert program.available_balance == program.total_earnings == first.total // 10
    run_jobs()
    assert "You earned" in mailbox.last_to(referrer.email)["Subject"]

    # a second paid invoice earns nothing more
    _paid_invoice(personal, staff, 5000)
    db.session.refresh(program)
    assert program.total_earnings == first.total // 10

    # store credit completes at once as a billing credit on the referrer's organization
    reward = program.available_balance
    amount = f"{reward // 100}.{reward % 100:02d}"
    response = client.post(
        f"/o/{shop.slug}/referrals/payouts",
        {"amount": amount, "method": "STORE_CREDIT", "organization_id": str(shop.id)},
    )
    assert response.status_code == 303
    payout = db.session.scalar(select(ReferralPayout))
    db.session.refresh(program)
    assert payout.status == "COMPLETED" and payout.transaction_id == f"store-credit-{payout.id}"
    assert (program.available_balance, program.pending_payout, program.paid_out) == (0, 0, reward)
    credit = db.session.scalar(select(Credit).where(Credit.organization_id == shop.id))
    assert credit.amount == reward and "Referral payout" in credit.reason
    assert billing.billing_account_for(shop).credit_balance == reward


def test_store_credit_only_to_an_organization_whose_billing_you_manage(client, ctx):
    referrer = make_user("amb2@example.com")
    shop = make_org(referrer, "Shop Two", "shop-two")
    stranger = make_user("stranger2@example.com")
    foreign = make_org(stranger, "Foreign", "foreign-org")
    client.login(referrer.email)
    client.post(f"/o/{shop.slug}/referrals/open")
    program = db.session.scalar(select(ReferralProgram))
    program.available_balance = program.total_earnings = 10000
    db.session.commit()
    refused = client.post(
        f"/o/{shop.slug}/referrals/payouts",
        {"amount": "60", "method": "STORE_CREDIT", "organization_id": str(foreign.id)},
    )
    assert refused.status_code == 422 and "whose billing you manage" in refused.get_data(as_text=True)
    db.session.refresh(program)
    assert program.available_balance == 10000
