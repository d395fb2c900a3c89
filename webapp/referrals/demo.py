"""Demo: the Harare owner runs a referral program with clicks, sign-ups, a confirmed reward and payouts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from webapp.core.models import utcnow
from webapp.demo import step
from webapp.extensions import db
from webapp.orgs.demo import demo_user
from webapp.referrals import services as referrals
from webapp.referrals.models import Referral, ReferralClick, ReferralPayout


@step(order=80)
def referral_program() -> None:
    owner = demo_user("owner@harare-retail.example", "Owner of Harare Retail Group")
    program = referrals.program_of(owner)
    if program is not None:
        return
    program = referrals.open_program(owner, "We run our POS billing on Tessera. Try it!")
    program.custom_slug = "harare-retail"
    db.session.flush()
    now = utcnow()
    sources = [("newsletter", "spring"), ("twitter", None), ("newsletter", "spring"), (None, None)]
    for day in range(0, 70, 3):
        source, campaign = sources[day % len(sources)]
        db.session.add(
            ReferralClick(program_id=program.id, created_at=now - timedelta(days=day), source=source, campaign=campaign)
        )
    statuses = [("SIGNED_UP", 20), ("CONFIRMED", 40), ("CONFIRMED", 55), ("PENDING", 5), ("EXPIRED", 75)]
    for i, (status, days_ago) in enumerate(statuses):
        email = f"friend{i + 1}@referred.example"
        if db.session.scalar(select(Referral.id).where(Referral.referee_email == email)):
            continue
        referral = Referral(program_id=program.id, referee_email=email, status=status, source="newsletter")
        if status == "EXPIRED":  # invited 75 days ago, never answered: the address is free again
            referral.created_at = now - timedelta(days=days_ago)
            referral.expired_at = now - timedelta(days=days_ago - 60)
        elif status != "PENDING":
            referral.signup_at = now - timedelta(days=days_ago)
        if status == "CONFIRMED":
            referral.confirmed_at = now - timedelta(days=days_ago - 10)
            referral.reward_amount = 2000
            program.total_earnings += 2000
            program.available_balance += 2000
        db.session.add(referral)
    db.session.flush()
    # one payout already paid, the balance left for a new request
    program.available_balance -= 2000
    program.paid_out += 2000
    db.session.add(
        ReferralPayout(
            program_id=program.id,
            amount=2000,
            method="PAYPAL",
            status="COMPLETED",
            details={"account_email": "owner@harare-retail.example"},
            transaction_id="PP-DEMO-1",
            completed_at=now - timedelta(days=8),
        )
    )
    # one payout request waiting in the staff queue, reserved from the balance
    program.available_balance -= 2000
    program.pending_payout += 2000
    db.session.add(
        ReferralPayout(
            program_id=program.id,
            amount=2000,
            method="BANK_TRANSFER",
            details={"account_name": "Harare Retail Group", "bank_name": "CBZ", "account_number": "0123456789"},
        )
    )
