"""Invitations that expire and free their address; payouts the referrer cancels; PayPal details."""

import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.factories import PASSWORD, make_org, make_user
from webapp.audit.models import AuditEntry
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.referrals import services as referrals
from webapp.referrals.models import Referral, ReferralPayout, ReferralProgram


@pytest.fixture
def referrer(ctx):
    user = make_user("ref@example.com")
    org = make_org(user, "Referrer Co", "referrer-co")
    return user, org


def _open(client, org):
    assert client.post(f"/o/{org.slug}/referrals/open").status_code == 303
    return db.session.scalar(select(ReferralProgram))


def _expire_job():
    from webapp.referrals.jobs import expire_unanswered_invitations

    expire_unanswered_invitations()
    db.session.expire_all()


def test_unanswered_invitation_expires_and_frees_the_address(client, make_client, referrer):
    user, org = referrer
    client.login(user.email)
    _open(client, org)
    assert client.post(f"/o/{org.slug}/referrals/invite", {"email": "friend@example.com"}).status_code == 303
    invitation = db.session.scalar(select(Referral))

    # a second referrer is refused while the invitation is live
    second = make_user("second@example.com")
    second_org = make_org(second, "Second Co", "second-co")
    other = make_client()
    other.login(second.email)
    _open(other, second_org)
    refused = other.post(f"/o/{second_org.slug}/referrals/invite", {"email": "friend@example.com"})
    assert refused.status_code == 422 and "already been referred" in refused.get_data(as_text=True)

    _expire_job()  # day 0: nothing to expire
    assert db.session.get(Referral, invitation.id).status == "PENDING"
    with time_machine.travel(utcnow() + timedelta(days=59, hours=23)):
        _expire_job()
        assert db.session.get(Referral, invitation.id).status == "PENDING"
    with time_machine.travel(utcnow() + timedelta(days=60, minutes=5)):
        _expire_job()
        expired = db.session.get(Referral, invitation.id)
        assert expired.status == "EXPIRED" and expired.expired_at is not None
        first_expiry = expired.expired_at
        _expire_job()  # idempotent: a second run changes nothing and records nothing
        assert db.session.get(Referral, invitation.id).expired_at == first_expiry
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "referral.invitations_expired")
        ).all()
        assert len(entries) == 1 and entries[0].details["referral_ids"] == [invitation.id]

    # the address is free: the second referrer's invitation now goes through
    again = other.post(f"/o/{second_org.slug}/referrals/invite", {"email": "friend@example.com"})
    assert again.status_code == 303
    rows = db.session.scalars(select(Referral).where(Referral.referee_email == "friend@example.com")).all()
    assert sorted(r.status for r in rows) == ["EXPIRED", "PENDING"]
    page = client.get(f"/o/{org.slug}/referrals/").get_data(as_text=True)
    assert "Expired" in page and "1 expired unanswered" in page

    # the friend signs up through the second referrer's link: the live referral is the one that moves
    program = referrals.program_of(second)
    visitor = make_client()
    visitor.get(f"/r/{program.code}")
    assert visitor.post("/auth/signup", {"email": "friend@example.com", "password": PASSWORD}).status_code == 303
    db.session.expire_all()
    live = db.session.scalar(select(Referral).where(Referral.program_id == program.id))
    assert live.status == "SIGNED_UP"
    assert db.session.get(Referral, invitation.id).status == "EXPIRED"


def test_setting_changes_the_expiry_and_signed_up_referrals_never_expire(client, referrer, make_client):
    from webapp.settings.models import SystemSetting

    user, org = referrer
    client.login(user.email)
    program = _open(client, org)
    db.session.add(SystemSetting(key="referrals.invitation_days", value="10"))
    db.session.add(Referral(program_id=program.id, referee_email="joined@example.com", status="SIGNED_UP"))
    db.session.commit()
    assert client.post(f"/o/{org.slug}/referrals/invite", {"email": "slow@example.com"}).status_code == 303
    with time_machine.travel(utcnow() + timedelta(days=11)):
        _expire_job()
    statuses = dict(db.session.execute(select(Referral.referee_email, Referral.status)).all())
    assert statuses == {"joined@example.com": "SIGNED_UP", "slow@example.com": "EXPIRED"}


def test_the_database_still_refuses_two_live_referrals_of_one_address(referrer):
    from sqlalchemy.exc import IntegrityError

    user, _ = referrer
    program = referrals.open_program(user)
    db.session.flush()
    db.session.add(Referral(program_id=program.id, referee_email="x@example.com", status="EXPIRED"))
    db.session.add(Referral(program_id=program.id, referee_email="x@example.com", status="EXPIRED"))
    db.session.add(Referral(program_id=program.id, referee_email="x@example.com", status="PENDING"))
    db.session.commit()  # expired ones do not hold the address
    db.session.add(Referral(program_id=program.id, referee_email="x@example.com", status="SIGNED_UP"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def _fund(program, cents):
    program.total_earnings += cents
    program.available_balance += cents
    db.session.commit()


def _request(client, org, **data):
    return client.post(f"/o/{org.slug}/referrals/payouts", data)


def test_paypal_payout_needs_a_valid_account_email(client, referrer):
    user, org = referrer
    client.login(user.email)
    program = _open(client, org)
    _fund(program, 10000)
    for bad in ("", "not-an-address", "me@", "me@@example.com", "a b@example.com"):
        answer = _request(client, org, amount="60", method="PAYPAL", account_email=bad)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 422, bad
        assert "e-mail" in text.lower(), bad
    assert db.session.scalar(select(func.count()).select_from(ReferralPayout)) == 0
    ok = _request(client, org, amount="60", method="PAYPAL", account_email="Me@Example.com")
    assert ok.status_code == 303
    payout = db.session.scalar(select(ReferralPayout))
    assert payout.method == "PAYPAL" and payout.details == {"account_email": "Me@example.com"}
    page = client.get(f"/o/{org.slug}/referrals/").get_data(as_text=True)
    assert "Paypal" in page or "PayPal" in page


def test_referrer_cancels_a_pending_payout_only(client, make_client, referrer, mailbox, run_jobs):
    user, org = referrer
    client.login(user.email)
    program = _open(client, org)
    _fund(program, 15000)
    assert _request(client, org, amount="60", method="PAYPAL", account_email="me@example.com").status_code == 303
    payout = db.session.scalar(select(ReferralPayout))
    db.session.refresh(program)
    assert (program.available_balance, program.pending_payout) == (9000, 6000)

    # someone else (another user, their own organization) cannot cancel it: 404
    stranger = make_user("stranger@example.com")
    stranger_org = make_org(stranger, "Stranger Co", "stranger-co")
    other = make_client()
    other.login(stranger.email)
    assert other.post(f"/o/{stranger_org.slug}/referrals/payouts/{payout.id}/cancel").status_code == 404
    assert other.post(f"/o/{org.slug}/referrals/payouts/{payout.id}/cancel").status_code == 404
    assert client.post(f"/o/{org.slug}/referrals/payouts/999999/cancel").status_code == 404

    answer = client.post(f"/o/{org.slug}/referrals/payouts/{payout.id}/cancel")
    assert answer.status_code == 303
    db.session.refresh(payout)
    db.session.refresh(program)
    assert payout.status == "CANCELED" and payout.canceled_at is not None
    assert (program.available_balance, program.pending_payout, program.paid_out) == (15000, 0, 0)
    page = client.get(f"/o/{org.slug}/referrals/").get_data(as_text=True)
    assert "canceled" in page.lower()
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "referral.payout_canceled"))
    run_jobs()
    assert "canceled" in mailbox.text(mailbox.last_to("ref@example.com"))

    # twice: refused, the balance moves once
    again = client.post(f"/o/{org.slug}/referrals/payouts/{payout.id}/cancel")
    assert again.status_code == 303
    db.session.refresh(program)
    assert program.available_balance == 15000
    assert "only a pending payout can be canceled" in client.get(again.headers["Location"]).get_data(as_text=True)

    # once staff approved it, the referrer cannot cancel
    approved = referrals.request_payout(program, user, 6000, "PAYPAL", {"account_email": "me@example.com"})
    db.session.commit()
    staff = make_user("ops@example.com", staff=True)
    referrals.approve_payout(approved, staff)
    db.session.commit()
    late = client.post(f"/o/{org.slug}/referrals/payouts/{approved.id}/cancel")
    assert late.status_code == 303
    db.session.refresh(approved)
    assert approved.status == "APPROVED"
    ops = make_client()
    ops.login(staff.email)
    assert "Canceled" in ops.get("/admin/referrals/?status=CANCELED").get_data(as_text=True)


@pytest.mark.postgres
@pytest.mark.parametrize("staff_step", ["approve", "fail"])
def test_cancel_racing_a_staff_step_one_wins(app, make_client, referrer, staff_step):
    user, org = referrer
    program = referrals.open_program(user)
    _fund(program, 15000)
    payout = referrals.request_payout(program, user, 6000, "PAYPAL", {"account_email": "me@example.com"})
    db.session.commit()
    staff = make_user("ops@example.com", staff=True)
    owner, ops = make_client(), make_client()
    owner.login(user.email)
    ops.login(staff.email)
    urls = {
        "owner": (owner, f"/o/{org.slug}/referrals/payouts/{payout.id}/cancel", {}),
        "staff": (ops, f"/admin/referrals/payouts/{payout.id}/{staff_step}", {"reason": "Account closed"}),
    }
    barrier, answers = threading.Barrier(2), {}
    db.session.commit()

    def go(name):
        c, url, data = urls[name]
        barrier.wait(timeout=10)
        answers[name] = c.post(url, data).status_code

    threads = [threading.Thread(target=go, args=(name,)) for name in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert answers == {"owner": 303, "staff": 303}
    db.session.expire_all()
    final = db.session.get(ReferralPayout, payout.id)
    program = db.session.get(ReferralProgram, program.id)
    assert final.status in ("CANCELED", "APPROVED" if staff_step == "approve" else "FAILED")
    # the money moved exactly once, whoever won
    if final.status == "APPROVED":
        assert (program.available_balance, program.pending_payout) == (9000, 6000)
    else:
        assert (program.available_balance, program.pending_payout) == (15000, 0)
    owner_page = owner.get(f"/o/{org.slug}/referrals/").get_data(as_text=True)
    staff_page = ops.get("/admin/referrals/").get_data(as_text=True)
    if final.status == "CANCELED":
        assert "canceled;" in owner_page and ("cannot become" in staff_page or "Someone else changed" in staff_page)
    else:
        assert "only a pending payout" in owner_page or "Someone else changed" in owner_page
