from sqlalchemy import select

from tests.factories import add_member, make_org, make_user
from webapp.core.events import emit
from webapp.extensions import db
from webapp.notifications import notify
from webapp.notifications.models import Notification
from webapp.notifications.services import set_preferences, unread_count


def _rows(user):
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def test_notify_honours_each_users_channel(ctx, run_jobs, mailbox):
    in_app, by_mail, both, off = (make_user(f"{n}@example.com") for n in ("inapp", "mail", "both", "off"))
    run_jobs()
    mailbox.clear()
    set_preferences(in_app.id, {"invoice.issued": "in_app"})
    set_preferences(by_mail.id, {"invoice.issued": "email"})
    set_preferences(both.id, {"invoice.issued": "both"})
    set_preferences(off.id, {"invoice.issued": "none"})
    created = notify([in_app, by_mail, both, off, in_app.id], "invoice.issued", "Invoice 7", "Body text", "/x")
    db.session.commit()
    run_jobs()
    assert sorted(n.user_id for n in created) == sorted([in_app.id, both.id])
    assert [n.title for n in _rows(in_app)] == ["Invoice 7"]
    assert _rows(by_mail) == [] and _rows(off) == []
    assert mailbox.to("inapp@example.com") == [] and mailbox.to("off@example.com") == []
    assert "Body text" in mailbox.text(mailbox.last_to("mail@example.com"))
    assert "/x" in mailbox.text(mailbox.last_to("both@example.com"))
    assert unread_count(both.id) == 1


def test_billing_event_reaches_billing_roles_only(ctx, run_jobs):
    owner = make_user()
    org = make_org(owner)
    billing, member = make_user(), make_user()
    add_member(org, billing, "BILLING")
    add_member(org, member, "MEMBER")
    emit("invoice.overdue", org=org, invoice_id=999999)
    db.session.commit()
    assert [n.type for n in _rows(owner)] == ["invoice.overdue"]
    assert len(_rows(billing)) == 1
    assert _rows(member) == []
    assert "#999999" in _rows(owner)[0].title
    # The notice opens the invoice itself, not the organization's dashboard.
    assert _rows(owner)[0].link == f"/o/{org.slug}/billing/invoices/999999"


def test_account_notices_open_the_billing_page(ctx):
    owner = make_user()
    org = make_org(owner)
    emit("account.suspended", org=org)
    emit("payment.failed", org=org, payment_id=1)
    db.session.commit()
    assert sorted(n.link for n in _rows(owner)) == [f"/o/{org.slug}/billing/"] * 2


def test_post_event_goes_to_actor_when_post_is_unknown(ctx):
    owner = make_user()
    org = make_org(owner)
    creator = make_user()
    add_member(org, creator, "MEMBER")
    emit("post.failed", org=org, actor=creator, post_id=123456)
    db.session.commit()
    assert [n.type for n in _rows(creator)] == ["post.failed"]
    assert _rows(owner) == []
