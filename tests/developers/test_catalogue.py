"""Every event type of the catalogue fires from its real action, and reaches a subscribed endpoint signed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.billing.helpers import make_invoice
from tests.developers.helpers import endpoint_for
from tests.developers.receiver import verify
from tests.factories import make_org, make_user
from tests.studio.conftest import creator, fast, post_form, sandbox_control, video_files  # noqa: F401 (fixtures)
from webapp.billing import services as billing
from webapp.core.models import utcnow
from webapp.developers.catalog import CATALOG, SOURCES, TYPES
from webapp.developers.jobs import deliver_endpoint
from webapp.developers.models import Event
from webapp.extensions import db


def invoice_finalized(setup):
    make_invoice(setup.org)


def invoice_paid(setup):
    invoice = make_invoice(setup.org, lines=((1, 10_000),))
    billing.record_manual_payment(invoice, None, invoice.amount_due, "CASH", "R-1")


def payment_failed(setup):
    invoice = make_invoice(setup.org)
    payment = billing.start_provider_payment(invoice, provider="paynow", method="ecocash", reference="ref-1")
    billing.settle_payment(payment, "FAILED", external_status="Failed", error="Declined by the wallet")


def invoice_overdue(setup):
    from webapp.billing.services.dunning import run_dunning

    invoice = make_invoice(setup.org)
    run_dunning(invoice.due_at + timedelta(days=1))
    return invoice.due_at + timedelta(days=1)


def credit_note_created(setup):
    invoice = make_invoice(setup.org)
    billing.record_manual_payment(invoice, None, invoice.amount_due, "CASH", "R-2")
    billing.issue_credit_note(invoice, None, "Returned the terminal")


def subscription_created(setup):
    from webapp.subscriptions import services
    from webapp.subscriptions.catalog import plan_by_code

    services.start_trial(setup.org, plan_by_code("TEAM_STANDARD"), setup.owner)  # a new subscription row


def subscription_updated(setup):
    from webapp.subscriptions import services
    from webapp.subscriptions.catalog import plan_by_code

    services.change_plan(
        services.current_subscription(setup.org), plan_by_code("INDIVIDUAL_PRO"), "MONTHLY", setup.owner
    )


def subscription_canceled(setup):
    from webapp.subscriptions import services
    from webapp.subscriptions.catalog import plan_by_code

    sub = services.current_subscription(setup.org)
    services.change_plan(sub, plan_by_code("INDIVIDUAL_PRO"), "MONTHLY", setup.owner)
    services.cancel_at_period_end(sub, setup.owner)
    db.session.commit()
    moment = sub.current_period_end + timedelta(minutes=1)
    with time_machine.travel(moment):
        services.renew_due()
        db.session.commit()
    return moment


def usage_limit_reached(setup):
    from webapp.orgs import services as orgs
    from webapp.orgs.models import Membership
    from webapp.subscriptions.services import plan_limit

    membership = db.session.scalar(select(Membership).where(Membership.organization_id == setup.org.id))
    allowed = plan_limit(setup.org, "users")
    for n in range(allowed - 2):  # the owner is one: one seat stays free
        orgs.invite_member(setup.org, membership, f"invitee{n}@catalogue.example", "MEMBER")
    db.session.commit()
    assert not _events(setup.org, "usage.limit_reached")  # not reached yet
    orgs.invite_member(setup.org, membership, "last@catalogue.example", "MEMBER")  # takes the last seat


def ticket_replied(setup):
    from webapp.support import services as support

    staff = make_user("agent@catalogue.example", staff=True)
    ticket = support.open_ticket(setup.org, setup.owner, "Terminal offline", "Since this morning.")
    db.session.commit()
    support.staff_reply(ticket, staff, "We are on it.")


def post_published(setup):
    response = setup.client.post(
        f"/o/{setup.org.slug}/studio/posts/new", post_form(setup.creator, platforms=("instagram",))
    )
    assert response.status_code == 303
    setup.run_jobs()


def post_failed(setup):
    sandbox_control(setup.client, "instagram", faults={"publish": ["error"]})
    post_published(setup)


def sync_completed(setup):
    from tests.integrations.helpers import connect

    conn = connect(setup.client, setup.org, "google_drive", choice="ana@drive.example")
    response = setup.client.post(
        f"/o/{setup.org.slug}/integrations/connections/{conn.id}/drive-sync", {"sync_type": "full"}
    )
    assert response.status_code == 303
    setup.run_jobs()


ACTIONS = {
    "invoice.finalized": invoice_finalized,
    "invoice.paid": invoice_paid,
    "invoice.overdue": invoice_overdue,
    "payment.succeeded": invoice_paid,
    "payment.failed": payment_failed,
    "credit_note.created": credit_note_created,
    "subscription.created": subscription_created,
    "subscription.updated": subscription_updated,
    "subscription.canceled": subscription_canceled,
    "usage.limit_reached": usage_limit_reached,
    "post.published": post_published,
    "post.failed": post_failed,
    "sync.completed": sync_completed,
    "ticket.replied": ticket_replied,
}
STUDIO = ("post.published", "post.failed")
BROWSER = ("sync.completed",)


def _events(org, type_):
    db.session.expire_all()
    return list(db.session.scalars(select(Event).where(Event.organization_id == org.id, Event.type == type_)))


class Setup:
    pass


def test_every_catalogue_type_has_an_action_here():
    assert sorted(ACTIONS) == sorted(TYPES)
    assert set(SOURCES) == {t.source for t in CATALOG.values()}


@pytest.mark.parametrize("type_", TYPES)
def test_the_event_fires_from_its_real_action(type_, request, ctx, receiver, client, run_jobs):
    setup = Setup()
    setup.client, setup.run_jobs = client, run_jobs
    if type_ in STUDIO:
        setup.creator = request.getfixturevalue("creator")
        setup.org, setup.owner = setup.creator.org, setup.creator.user
    else:
        setup.owner = make_user("owner@catalogue.example")
        setup.org = make_org(setup.owner, "Catalogue Co", "catalogue-co")
        if type_ in BROWSER:
            request.getfixturevalue("live_server")
            client.login(setup.owner.email)
    endpoint, secret = endpoint_for(setup.org, setup.owner, receiver.url, types=[type_])
    before = {e.id for e in _events(setup.org, type_)}  # a new organization's own subscription.created
    moment = ACTIONS[type_](setup)
    db.session.commit()

    events = [e for e in _events(setup.org, type_) if e.id not in before]
    assert len(events) == 1, [e.type for e in events]
    event = events[0]
    assert event.public_id.startswith("evt_") and event.api_version and event.data.get("object")
    with time_machine.travel((moment or utcnow()) + timedelta(seconds=5), tick=False):
        deliver_endpoint(endpoint.id)
    sent = [r for r in receiver.requests if json.loads(r["body"])["type"] == type_]
    assert len(sent) == 1, [json.loads(r["body"])["type"] for r in receiver.requests]
    body = json.loads(sent[0]["body"])
    assert body["id"] == event.public_id and body["data"]["object"] == event.data
    assert verify(sent[0]["headers"]["Tessera-Signature"], sent[0]["body"], secret, tolerance=10**9)
