"""The daily digest through the preferences page and the cron job: off by default, one e-mail that
groups and ranks unread notifications (ranked by the AI sandbox, metered), once per user and day."""

from sqlalchemy import select

from tests.factories import make_org, make_user
from webapp.ai import credits
from webapp.ai.models import AiCreditBalance, AiUsageLog
from webapp.extensions import db
from webapp.notifications import notify
from webapp.notifications.jobs import send_daily_digests
from webapp.notifications.models import DigestSent, Notification
from webapp.notifications.services import preferences_of, types_for
from webapp.orgs.models import Membership, Organization


def _preferences(user, **changes) -> dict:
    """The preferences form as the page sends it: every kind with its current channel."""
    current = preferences_of(user.id)
    return {t.name: current[t.name] for t in types_for(False)} | changes


def _personal_org(user):
    return db.session.scalar(
        select(Organization)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user.id, Organization.is_personal.is_(True))
    )


def test_digest_off_by_default_then_one_ranked_email_a_day(client, ctx, run_jobs, mailbox):
    user = make_user("digest@example.com", name="Dana Digest")
    org = make_org(user, name="Harare Retail")
    run_jobs()
    mailbox.clear()
    # off by default: an e-mail per notification
    notify(user, "invoice.issued", "Invoice INV-1 issued", "Due in 14 days", "/o/x/billing", org=org)
    db.session.commit()
    run_jobs()
    assert len(mailbox.to("digest@example.com")) == 1
    assert send_daily_digests() == 0

    client.login(user.email)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'name="daily_digest"' in page and "checked" not in page.split('name="daily_digest"')[1][:40]
    saved = client.post("/notifications/preferences", _preferences(user, daily_digest="1"))
    assert saved.status_code == 303
    assert 'value="1" checked' in client.get("/notifications/preferences").get_data(as_text=True)

    personal = _personal_org(user)
    credits.balance_of(personal)
    credits.adjust(personal, user, 300, "BONUS", "Test credits")
    db.session.commit()
    before = db.session.scalar(select(AiCreditBalance.balance).where(AiCreditBalance.organization_id == personal.id))
    mailbox.clear()
    notify(user, "invoice.issued", "Invoice INV-2 issued", "Due in 14 days", "/o/x/billing", org=org)
    notify(user, "payment.received", "Payment of $40.00 received", "", None, org=org)
    notify(user, "post.failed", "Your TikTok post failed", "The video was too long", "/o/x/studio", org=org)
    notify(user, "invoice.issued", "Invoice INV-3 issued", "", None, org=org)
    db.session.commit()
    run_jobs()
    assert mailbox.to("digest@example.com") == []  # no e-mail each: they wait for the digest

    assert send_daily_digests() == 1
    run_jobs()
    [message] = mailbox.to("digest@example.com")
    text = mailbox.text(message)
    assert "5 unread; 1 need your attention first." in text and "(ranked by AI)" in text
    # grouped by kind and organization, the failure first
    failed_at = text.index("A post failed to publish · Harare Retail")
    issued_at = text.index("An invoice was issued · Harare Retail")
    assert failed_at < issued_at and text.count("An invoice was issued") == 1
    assert "Invoice INV-1 issued" in text and "Invoice INV-3 issued" in text
    [sent] = db.session.scalars(select(DigestSent)).all()
    assert sent.notification_count == 5 and sent.ai_written and sent.email_message_id
    [log] = db.session.scalars(select(AiUsageLog).where(AiUsageLog.service == "SMART_NOTIFICATIONS")).all()
    assert log.success and log.organization_id == personal.id
    db.session.expire_all()
    after = db.session.scalar(select(AiCreditBalance.balance).where(AiCreditBalance.organization_id == personal.id))
    assert after == before - log.credits_used

    # the cron job again the same day (or a retried job): no second digest
    assert send_daily_digests() == 1
    run_jobs()
    assert len(mailbox.to("digest@example.com")) == 1
    assert len(db.session.scalars(select(DigestSent)).all()) == 1
    assert db.session.scalar(select(db.func.count(Notification.id)).where(Notification.user_id == user.id)) == 5


def test_digest_goes_out_ranked_by_rule_when_the_ai_fails_and_charges_nothing(client, ctx, run_jobs, mailbox):
    user = make_user("rule@example.com")
    org = make_org(user, name="Kyoto Creators")
    client.login(user.email)
    assert client.post("/notifications/preferences", _preferences(user, daily_digest="1")).status_code == 303
    personal = _personal_org(user)
    credits.balance_of(personal)
    credits.adjust(personal, user, 300, "BONUS", "Test credits")
    db.session.commit()
    before = db.session.scalar(select(AiCreditBalance.balance).where(AiCreditBalance.organization_id == personal.id))
    run_jobs()
    mailbox.clear()
    notify(user, "general", "Hello [sandbox:fail]", "", None, org=org)
    notify(user, "invoice.overdue", "Invoice INV-9 is overdue", "", None, org=org)
    db.session.commit()
    send_daily_digests()
    run_jobs()
    text = mailbox.text(mailbox.last_to("rule@example.com"))
    assert "2 unread; 1 need your attention first." in text and "ranked by AI" not in text
    assert text.index("Invoice INV-9 is overdue") < text.index("Hello")
    db.session.expire_all()
    after = db.session.scalar(select(AiCreditBalance.balance).where(AiCreditBalance.organization_id == personal.id))
    assert after == before
    [log] = db.session.scalars(select(AiUsageLog).where(AiUsageLog.service == "SMART_NOTIFICATIONS")).all()
    assert not log.success and log.credits_used == 0
    assert db.session.scalars(select(DigestSent)).one().ai_written is False
