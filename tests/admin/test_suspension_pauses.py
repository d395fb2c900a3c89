"""A suspended organization is not invoiced while paused (issue 22): the billing run leaves it out and
says so, its billing e-mails are held at delivery and released on reactivation, nothing is charged,
dunning waits, subscriptions do not renew (and do not bill the paused time), digests leave it out —
and every periodic job is named as pausing or not in ``orgs/suspension.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.billing.helpers import make_invoice
from tests.billing.stripe_helpers import GOOD, save_card
from tests.factories import add_member, make_org, make_user
from webapp.billing import services as billing
from webapp.billing.models import BillingRun, Invoice
from webapp.billing.payment_models import CollectionAttempt
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.mail.models import EmailMessage
from webapp.orgs import suspension

SKIP_TEXT = "suspended: not invoiced while the organization is suspended by staff"


@pytest.fixture
def setup(ctx, make_client):
    owner = make_user("owner@paused.example", name="Olive Owner")
    org = make_org(owner, "Paused Co", "paused-co")
    make_user("ops@paused.example", staff=True)
    staff = make_client()
    staff.login("ops@paused.example")
    return {"owner": owner, "org": org, "staff": staff}


def _suspend(staff, org):
    assert staff.post(f"/admin/orgs/{org.id}/suspend", {"reason": "Chargebacks under review"}).status_code == 303


def _reactivate(staff, org):
    assert staff.post(f"/admin/orgs/{org.id}/reactivate").status_code == 303


def _invoices(org_id):
    db.session.expire_all()
    return list(db.session.scalars(select(Invoice).where(Invoice.organization_id == org_id).order_by(Invoice.id)))


def _invoice_mails(mailbox, address):
    return [m for m in mailbox.to(address) if m["Subject"].startswith("Invoice ") and " from Tessera: " in m["Subject"]]


def _notice_mails(mailbox, address):
    return [m for m in mailbox.to(address) if m["Subject"].startswith("Invoice ") and m["Subject"].endswith("issued")]


def _service(org, name="Till", fee=3_000):
    return billing.create_service(
        org, None, type="POS_TERMINAL", name=name, monthly_fee=fee, activated_at=datetime(2025, 1, 1, tzinfo=UTC)
    )


def test_the_billing_run_leaves_a_suspended_organization_out_says_so_and_bills_it_after_reactivation(
    setup, run_jobs, mailbox
):
    org, staff = setup["org"], setup["staff"]
    _service(org)
    other = make_org(make_user("other@paused.example"), "Active Co", "active-co")
    _service(other, "Other till")
    db.session.commit()
    _suspend(staff, org)
    assert staff.post("/admin/invoices/runs", {"period": "2026-11"}).status_code == 303
    run_jobs()
    db.session.expire_all()
    run = db.session.scalar(select(BillingRun).order_by(BillingRun.id.desc()))
    assert run.status == "SUCCEEDED"
    assert run.counts["suspended"] == 1 and run.counts["invoices"] == 1  # the active organization only
    assert _invoices(org.id) == [] and len(_invoices(other.id)) == 1
    entry = next(e for e in run.report if e["organization_id"] == org.id)
    assert entry["suspended"] and entry["skipped"] == [SKIP_TEXT] and entry["billed"] is None
    page = staff.get(f"/admin/invoices/runs/{run.id}").get_data(as_text=True)
    assert "Paused Co" in page and SKIP_TEXT in page and "1 suspended (not invoiced while suspended)" in page
    assert _invoice_mails(mailbox, "owner@paused.example") == []

    # Staff decide the skipped period is owed: after reactivation the same period's run bills it, once.
    _reactivate(staff, org)
    for _ in range(2):  # a second run (a double press) bills nothing more
        assert staff.post("/admin/invoices/runs", {"period": "2026-11"}).status_code == 303
        run_jobs()
    (invoice,) = _invoices(org.id)
    assert invoice.status == "ISSUED" and invoice.subtotal == 3_000
    assert len(_invoices(other.id)) == 1
    assert len(_invoice_mails(mailbox, "owner@paused.example")) == 1


def test_a_whole_batch_of_suspended_accounts_is_reported_not_billed(setup):
    org, staff = setup["org"], setup["staff"]
    _service(org)
    db.session.commit()
    _suspend(staff, org)
    run = billing.run_billing("2026-11", batch_size=1, commit=True)  # batches of one: some hold only Paused Co
    assert run.status == "SUCCEEDED" and run.counts["suspended"] == 1
    assert _invoices(org.id) == []


def test_invoice_emails_are_held_while_suspended_and_sent_once_on_reactivation(setup, run_jobs, mailbox):
    org, staff = setup["org"], setup["staff"]
    draft = make_invoice(org, finalize=False)
    _suspend(staff, org)
    response = staff.post(f"/admin/invoices/{draft.id}/finalize", follow_redirects=True)
    assert "held until the organization is reactivated" in response.get_data(as_text=True)
    staff.post(f"/admin/invoices/{draft.id}/resend")  # a staff resend is held the same way
    run_jobs()
    assert _invoice_mails(mailbox, "owner@paused.example") == []
    db.session.expire_all()
    held = db.session.scalars(
        select(EmailMessage).where(EmailMessage.about_type == "Invoice", EmailMessage.about_id == draft.id)
    ).all()
    assert _notice_mails(mailbox, "owner@paused.example") == []  # the owner's notification e-mail too
    assert len(held) == 3 and {m.status for m in held} == {"HELD"} and all(m.attempts == 0 for m in held)
    assert sorted(m.template for m in held) == ["billing/issued", "billing/issued", "notifications/notification"]
    log = staff.get("/admin/emails?status=HELD").get_data(as_text=True)
    assert held[0].subject in log and held[1].subject in log
    detail = staff.get(f"/admin/emails/{held[0].id}").get_data(as_text=True)
    assert "Held: its organization is suspended" in detail
    # The suspension notice itself was not held.
    assert [m for m in mailbox.to("owner@paused.example") if m["Subject"] == "Paused Co is suspended on Tessera"]

    _reactivate(staff, org)
    staff.post(f"/admin/orgs/{org.id}/reactivate")  # the double press: refused, nothing released twice
    run_jobs()
    run_jobs()
    assert len(_invoice_mails(mailbox, "owner@paused.example")) == 2  # the issue and the resend, once each
    assert len(_notice_mails(mailbox, "owner@paused.example")) == 1
    db.session.expire_all()
    assert {db.session.get(EmailMessage, m.id).status for m in held} == {"SENT"}


def test_no_automatic_charge_while_suspended_and_the_card_is_charged_after_reactivation(
    setup, client, run_jobs, mailbox
):
    from webapp.billing.payment_jobs import collect_due_invoices

    org, staff = setup["org"], setup["staff"]
    client.login("owner@paused.example")
    save_card(client, org, GOOD)
    _suspend(staff, org)
    invoice = make_invoice(org, lines=((1, 10_000),))  # finalized: its collection job is queued
    run_jobs()
    assert collect_due_invoices() == 0
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "ISSUED"
    assert db.session.scalar(select(func.count()).select_from(CollectionAttempt)) == 0
    _reactivate(staff, org)
    collect_due_invoices()
    run_jobs()
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "PAID"
    assert db.session.scalar(select(func.count()).select_from(CollectionAttempt)) == 1


def test_dunning_waits_while_suspended_and_resumes_after(setup, run_jobs, mailbox):
    org, staff = setup["org"], setup["staff"]
    invoice = make_invoice(org)
    _suspend(staff, org)
    later = utcnow() + timedelta(days=30)  # past the due date
    with time_machine.travel(later, tick=False):
        counts = billing.run_dunning()
        db.session.commit()
    assert counts == {"reminders": 0, "overdue": 0, "accounts_overdue": 0, "suspended": 0}
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "ISSUED"
    _reactivate(staff, org)
    with time_machine.travel(later, tick=False):
        counts = billing.run_dunning()
        db.session.commit()
    assert counts["overdue"] == 1
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "OVERDUE"


def test_a_subscription_does_not_renew_while_suspended_and_the_paused_time_is_not_billed(setup, make_client):
    from webapp.subscriptions import services as subs
    from webapp.subscriptions.catalog import plan_by_code
    from webapp.subscriptions.jobs import renew_subscriptions

    org, owner, staff = setup["org"], setup["owner"], setup["staff"]
    subs.change_plan(subs.current_subscription(org), plan_by_code("TEAM_STANDARD"), "MONTHLY", owner)
    db.session.commit()
    before = len(_invoices(org.id))
    sub = subs.current_subscription(org)
    _suspend(staff, org)
    three_months_on = sub.current_period_end + timedelta(days=90)
    with time_machine.travel(three_months_on, tick=False):
        renew_subscriptions()
        db.session.commit()
        assert len(_invoices(org.id)) == before  # nothing invoiced while paused
        staff = make_client()  # signed in again three months on (the old form token has expired)
        staff.login("ops@paused.example")
        _reactivate(staff, org)
        renew_subscriptions()
        renew_subscriptions()  # twice: still one renewal
        db.session.commit()
    invoices = _invoices(org.id)
    assert len(invoices) == before + 1  # one period, starting at reactivation, not the three paused ones
    db.session.expire_all()
    renewed = subs.current_subscription(org)
    assert renewed.current_period_start == three_months_on
    assert invoices[-1].period_start == three_months_on.date() and invoices[-1].subtotal == 4_900


def test_digests_leave_a_suspended_organizations_notifications_out_and_charge_it_nothing(setup, run_jobs):
    from webapp.ai import credits
    from webapp.ai.models import AiUsageLog
    from webapp.notifications.digest import set_digest, unread_for_digest
    from webapp.notifications.jobs import send_daily_digests
    from webapp.notifications.models import DigestSent, Notification
    from webapp.orgs.models import Membership, Organization

    org, staff = setup["org"], setup["staff"]
    member = make_user("reader@paused.example")
    add_member(org, member, "MEMBER")
    other = make_org(member, "Active Co", "active-co")
    for where in (org, other):
        db.session.add(Notification(user_id=member.id, organization_id=where.id, type="invoice.overdue", title="x"))
    db.session.commit()
    today = utcnow().date()
    assert {n.organization_id for n in unread_for_digest(member.id, today)} == {org.id, other.id}
    _suspend(staff, org)
    assert {n.organization_id for n in unread_for_digest(member.id, today)} == {other.id}
    _reactivate(staff, org)
    assert {n.organization_id for n in unread_for_digest(member.id, today)} == {org.id, other.id}

    # The AI ranking is charged to the member's personal organization: suspended, the rule ranks instead.
    personal = db.session.scalar(
        select(Organization)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == member.id, Organization.is_personal.is_(True))
    )
    credits.balance_of(personal)
    credits.adjust(personal, member, 300, "BONUS", "Test credits")
    set_digest(member.id, True)
    db.session.commit()
    _suspend(staff, personal)
    assert send_daily_digests() >= 1
    run_jobs()
    db.session.expire_all()
    sent = db.session.scalar(select(DigestSent).where(DigestSent.user_id == member.id))
    assert sent is not None and not sent.ai_written and sent.notification_count == 2
    assert (
        db.session.scalar(select(func.count()).select_from(AiUsageLog).where(AiUsageLog.organization_id == personal.id))
        == 0
    )


def test_every_periodic_job_is_named_as_pausing_or_running_for_a_suspended_organization(app):
    from webapp.jobs.cron import load_job_modules

    names = {p.name for p in load_job_modules()}
    paused, running = set(suspension.PAUSED_JOBS), set(suspension.RUNS_WHILE_SUSPENDED)
    assert not paused & running
    assert names - paused - running == set(), "say in orgs/suspension.py whether the new job pauses"
    assert (paused | running) - names == set(), "a job named in orgs/suspension.py is gone"


def test_the_demo_shows_a_suspended_organizations_held_email_and_its_skip_in_the_run(ctx, run_jobs):
    from webapp.billing.demo import suspended_organization_billing
    from webapp.orgs.demo import SUSPENDED_SLUG, demo_org, staff_and_organizations, suspended_organization

    for _ in range(2):  # idempotent
        staff_and_organizations()
        suspended_organization()
        suspended_organization_billing()
        db.session.commit()
    run_jobs()
    mutare = demo_org(SUSPENDED_SLUG)
    (invoice,) = _invoices(mutare.id)
    messages = db.session.scalars(
        select(EmailMessage).where(EmailMessage.about_type == "Invoice", EmailMessage.about_id == invoice.id)
    ).all()
    assert messages and {m.status for m in messages} == {"HELD"}
    run = billing.run_billing(billing.previous_period(utcnow().date()), commit=True)
    entry = next(e for e in run.report if e["organization_id"] == mutare.id)
    assert entry["skipped"] == [SKIP_TEXT] and len(_invoices(mutare.id)) == 1


def test_the_demo_suspends_mutare_even_when_the_billing_history_made_it_first(ctx):
    from webapp.orgs import services as orgs
    from webapp.orgs.demo import SUSPENDED_SLUG, demo_org, staff_and_organizations, suspended_organization
    from webapp.orgs.models import Membership, Organization

    staff_and_organizations()
    history_owner = make_user("rudo@books.example")
    orgs.create_organization(history_owner, "Mutare Hardware", SUSPENDED_SLUG, "a@m.example", "ZW", "Africa/Harare")
    db.session.commit()
    suspended_organization()
    db.session.commit()
    mutare = demo_org(SUSPENDED_SLUG)
    assert mutare.is_suspended
    owners = db.session.scalars(
        select(Membership.user_id).where(Membership.organization_id == mutare.id, Membership.role == "OWNER")
    ).all()
    assert len(owners) == 2  # the history's owner and owner@mutare-hardware.example
    suspended_organization()  # a second run: suspended once, nothing more
    db.session.commit()
    assert db.session.get(Organization, mutare.id).is_suspended
