"""A past-due subscription: the preview refuses an upgrade before offering Confirm (no confirm-then-422)."""

from sqlalchemy import select

from tests.factories import make_org, make_user
from webapp.extensions import db
from webapp.subscriptions import services
from webapp.subscriptions.catalog import plan_by_code
from webapp.subscriptions.models import Subscription


def _past_due_org(client):
    owner = make_user()
    org = make_org(owner)
    services.change_plan(services.current_subscription(org), plan_by_code("TEAM_STANDARD"), "MONTHLY", owner)
    services.current_subscription(org).status = "PAST_DUE"
    db.session.commit()
    client.login(owner.email)
    return org


def test_the_preview_of_an_upgrade_says_why_it_cannot_happen_and_offers_no_confirm(client, ctx):
    org = _past_due_org(client)
    page = client.get(f"/o/{org.slug}/subscription/preview?plan=TEAM_PREMIUM&interval=MONTHLY")
    text = page.get_data(as_text=True)
    assert page.status_code == 409
    assert "cannot be made now" in text and "Pay the overdue invoice before upgrading" in text
    assert "Confirm the change" not in text and f"/o/{org.slug}/billing/invoices" in text
    assert 'id="sidebar"' in text or "<nav" in text  # the page keeps its layout
    # the same rule answers a hand-made POST, and nothing changed
    refused = client.post(f"/o/{org.slug}/subscription/change", {"plan": "TEAM_PREMIUM", "interval": "MONTHLY"})
    assert refused.status_code == 422 and "Pay the overdue invoice" in refused.get_data(as_text=True)
    db.session.expire_all()
    sub = db.session.scalar(
        select(Subscription).where(Subscription.organization_id == org.id, Subscription.ended_at.is_(None))
    )
    assert sub.plan.code == "TEAM_STANDARD" and sub.status == "PAST_DUE"


def test_a_change_at_period_end_is_still_offered_while_past_due(client, ctx):
    org = _past_due_org(client)
    page = client.get(f"/o/{org.slug}/subscription/preview?plan=FREE&interval=MONTHLY")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Takes effect at the end of this period" in text and "Confirm the change" in text
