from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.factories import PASSWORD, make_org, make_user
from webapp.core.errors import DomainError
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.referrals import services as referrals
from webapp.referrals.models import Referral, ReferralClick, ReferralPayout, ReferralProgram


@pytest.fixture
def referrer(ctx):
    user = make_user("ref@example.com")
    org = make_org(user, "Referrer Co", "referrer-co")
    return user, org


def _open(client, org):
    assert client.post(f"/o/{org.slug}/referrals/open").status_code == 303
    return db.session.scalar(select(ReferralProgram))


def test_link_click_carries_the_referral_through_sign_up(client, make_client, referrer):
    user, org = referrer
    client.login(user.email)
    program = _open(client, org)
    page = client.get(f"/o/{org.slug}/referrals/").get_data(as_text=True)
    assert f"/r/{program.code}" in page

    visitor = make_client()
    landing = visitor.get(f"/r/{program.code}?utm_source=newsletter&utm_campaign=spring")
    assert landing.status_code == 200 and "invites you" in landing.get_data(as_text=True)
    assert "tessera_ref=" in landing.headers["Set-Cookie"]
    click = db.session.scalar(select(ReferralClick))
    assert (click.source, click.campaign) == ("newsletter", "spring") and click.ip_address

    assert visitor.post("/auth/signup", {"email": "newbie@example.com", "password": PASSWORD}).status_code == 303
    referral = db.session.scalar(select(Referral))
    assert referral.status == "SIGNED_UP" and referral.referee_email == "newbie@example.com"
    assert (referral.source, referral.campaign, referral.click_id) == ("newsletter", "spring", click.id)
    stats = client.get(f"/o/{org.slug}/referrals/").get_data(as_text=True)
    assert "newbie@example.com" in stats


def test_unknown_code_is_404(client, ctx):
    assert client.get("/r/NOPE1234").status_code == 404


def test_custom_link_can_be_set_once(client, referrer):
    user, org = referrer
    client.login(user.email)
    program = _open(client, org)
    assert client.post(f"/o/{org.slug}/referrals/link", {"slug": "my-shop"}).status_code == 303
    db.session.refresh(program)
    assert program.custom_slug == "my-shop"
    again = client.post(f"/o/{org.slug}/referrals/link", {"slug": "other-shop"})
    assert again.status_code == 422 and "only once" in again.get_data(as_text=True)
    assert client.get("/r/my-shop").status_code == 200


def test_self_and_duplicate_referrals_are_refused(client, make_client, referrer, mailbox, run_jobs):
    user, org = referrer
    client.login(user.email)
    program = _open(client, org)
    own = client.post(f"/o/{org.slug}/referrals/invite", {"email": user.email})
    assert own.status_code == 422 and "cannot refer yourself" in own.get_data(as_text=True)

    assert client.post(f"/o/{org.slug}/referrals/invite", {"email": "friend@example.com"}).status_code == 303
    run_jobs()
    assert f"/r/{program.code}" in mailbox.text(mailbox.last_to("friend@example.com"))
    twice = client.post(f"/o/{org.slug}/referrals/invite", {"email": "FRIEND@example.com"})
    assert twice.status_code == 422 and "already been referred" in twice.get_data(as_text=True)

    # A second referrer's link cannot take over an address the first one referred.
    other = make_user("other@example.com")
    other_program = referrals.open_program(other)
    db.session.commit()
    visitor = make_client()
    visitor.get(f"/r/{other_program.code}")
    visitor.post("/auth/signup", {"email": "friend@example.com", "password": PASSWORD})
    referral = db.session.scalar(select(Referral).where(Referral.referee_email == "friend@example.com"))
    db.session.refresh(referral)
    assert referral.program_id == program.id
    assert db.session.scalar(select(Referral).where(Referral.program_id == other_program.id)) is None


def _fund(program, cents):
    program.total_earnings += cents
    program.available_balance += cents
    db.session.commit()


def test_payout_request_rules(client, referrer):
    user, org = referrer
    client.login(user.email)
    program = _open(client, org)
    _fund(program, 8000)
    low = client.post(
        f"/o/{org.slug}/referrals/payouts", {"amount": "10", "method": "PAYPAL", "account_email": "me@example.com"}
    )
    assert low.status_code == 422 and "smallest payout" in low.get_data(as_text=True)
    too_much = client.post(
        f"/o/{org.slug}/referrals/payouts", {"amount": "90", "method": "PAYPAL", "account_email": "me@example.com"}
    )
    assert too_much.status_code == 422 and "more than your available balance" in too_much.get_data(as_text=True)
    missing = client.post(f"/o/{org.slug}/referrals/payouts", {"amount": "60", "method": "BANK_TRANSFER"})
    assert missing.status_code == 422 and "is needed for this method" in missing.get_data(as_text=True)
    bad_amount = client.post(f"/o/{org.slug}/referrals/payouts", {"amount": "sixty", "method": "PAYPAL"})
    assert bad_amount.status_code == 422 and "Enter an amount" in bad_amount.get_data(as_text=True)
    db.session.refresh(program)
    assert (program.available_balance, program.pending_payout) == (8000, 0)
    assert db.session.scalar(select(ReferralPayout)) is None

    ok = client.post(
        f"/o/{org.slug}/referrals/payouts", {"amount": "60.00", "method": "PAYPAL", "account_email": "me@example.com"}
    )
    assert ok.status_code == 303
    db.session.refresh(program)
    assert (program.available_balance, program.pending_payout) == (2000, 6000)


def test_staff_processes_payouts_and_balances_never_go_negative(client, make_client, referrer, mailbox, run_jobs):
    user, _ = referrer
    program = referrals.open_program(user)
    _fund(program, 15000)
    first = referrals.request_payout(
        program, user, 6000, "BANK_TRANSFER", {"account_name": "Ref", "bank_name": "CBZ", "account_number": "123"}
    )
    db.session.commit()
    with pytest.raises(DomainError, match="more than your available balance"):
        referrals.request_payout(program, user, 9001, "PAYPAL", {"account_email": "me@example.com"})
    db.session.rollback()

    staff = make_user("ops@example.com", staff=True)
    ops = make_client()
    ops.login(staff.email)
    queue_page = ops.get("/admin/referrals/")
    queue = queue_page.get_data(as_text=True)
    assert queue_page.status_code == 200 and "ref@example.com" in queue and "CBZ" in queue
    for shown in ("PENDING", "COMPLETED", "FAILED"):
        assert ops.get(f"/admin/referrals/?status={shown}").status_code == 200
    # completing before approval is an illegal step
    early = ops.post(f"/admin/referrals/payouts/{first.id}/complete", {"transaction_id": "TX1"})
    assert early.status_code == 303
    db.session.refresh(first)
    assert first.status == "PENDING"
    assert ops.post(f"/admin/referrals/payouts/{first.id}/approve").status_code == 303
    assert ops.post(f"/admin/referrals/payouts/{first.id}/processing").status_code == 303
    no_tx = ops.post(f"/admin/referrals/payouts/{first.id}/complete", {"transaction_id": " "})
    assert no_tx.status_code == 303
    db.session.refresh(first)
    assert first.status == "PROCESSING"
    assert ops.post(f"/admin/referrals/payouts/{first.id}/complete", {"transaction_id": "TX1"}).status_code == 303
    db.session.refresh(first)
    db.session.refresh(program)
    assert first.status == "COMPLETED" and first.transaction_id == "TX1"
    assert (program.available_balance, program.pending_payout, program.paid_out) == (9000, 0, 6000)

    second = referrals.request_payout(program, user, 9000, "PAYPAL", {"account_email": "me@example.com"})
    db.session.commit()
    assert (
        ops.post(f"/admin/referrals/payouts/{second.id}/fail", {"reason": "PayPal account closed"}).status_code == 303
    )
    db.session.refresh(program)
    assert (program.available_balance, program.pending_payout, program.paid_out) == (9000, 0, 6000)
    run_jobs()
    assert "PayPal account closed" in mailbox.text(mailbox.last_to("ref@example.com"))

    # customers never see the queue
    client.login(user.email)
    assert client.get("/admin/referrals/").status_code == 404
    assert client.post(f"/admin/referrals/payouts/{second.id}/approve").status_code == 404


def test_click_tracking_is_erased_after_retention(ctx, referrer):
    user, _ = referrer
    program = referrals.open_program(user)
    db.session.flush()
    referrals.record_click(program, source="x", campaign=None, ip="10.1.2.3", user_agent="Firefox")
    db.session.commit()
    assert referrals.purge_tracking() == 0
    with time_machine.travel(utcnow() + timedelta(days=31)):
        assert referrals.purge_tracking() == 1
    db.session.commit()
    click = db.session.scalar(select(ReferralClick))
    assert click.ip_address is None and click.user_agent is None and click.source == "x"


def _pending_payout(user):
    program = referrals.open_program(user)
    _fund(program, 15000)
    payout = referrals.request_payout(program, user, 6000, "PAYPAL", {"account_email": "me@example.com"})
    db.session.commit()
    return program, payout


def test_a_payout_step_that_loses_the_race_twice_is_a_flash_not_a_500(make_client, referrer, monkeypatch):
    from tests.races import lose_commits

    user, _ = referrer
    _, payout = _pending_payout(user)
    staff = make_user("ops@example.com", staff=True)
    ops = make_client()
    ops.login(staff.email)
    lost = lose_commits(monkeypatch, times=2)
    answer = ops.post(f"/admin/referrals/payouts/{payout.id}/approve")
    assert answer.status_code == 303 and len(lost) == 2
    assert "Someone else changed this" in ops.get("/admin/referrals/").get_data(as_text=True)
    db.session.refresh(payout)
    assert payout.status == "PENDING"  # rolled back: nothing half-written


@pytest.mark.postgres
def test_two_staff_approving_at_once_one_wins_the_other_is_refused(app, make_client, referrer):
    import threading

    user, _ = referrer
    _, payout = _pending_payout(user)
    staff = make_user("ops@example.com", staff=True)
    clients = [make_client(), make_client()]
    for c in clients:
        c.login(staff.email)
    barrier, answers, url = threading.Barrier(2), [], f"/admin/referrals/payouts/{payout.id}/approve"
    db.session.commit()  # no transaction of this thread in the way

    def approve(c):
        barrier.wait(timeout=10)
        answers.append(c.post(url).status_code)

    threads = [threading.Thread(target=approve, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert answers == [303, 303]
    db.session.expire_all()
    assert db.session.get(ReferralPayout, payout.id).status == "APPROVED"
    flashes = [c.get("/admin/referrals/").get_data(as_text=True) for c in clients]
    assert sum("is approved" in page for page in flashes) == 1
    assert sum("cannot become approved" in page or "Someone else changed" in page for page in flashes) == 1
