"""The billing run hands ``invoice.issued`` to its subscribers a batch at a time (``emit_many``): what
they make — public events and webhook deliveries, notices to billing members — is what finalizing
the same drafts one by one makes."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from tests.billing.helpers import org_with_owner
from tests.developers.helpers import endpoint_for
from webapp.billing import services as billing
from webapp.billing.models import Invoice
from webapp.core import display
from webapp.core import events as bus
from webapp.developers.models import Event, WebhookDelivery
from webapp.extensions import db
from webapp.notifications.models import Notification

NOV = (date(2026, 11, 1), date(2026, 11, 30))


def _what_subscribers_made(org_ids):
    invoices = list(
        db.session.scalars(select(Invoice).where(Invoice.organization_id.in_(org_ids)).order_by(Invoice.id))
    )
    position = {invoice.id: n for n, invoice in enumerate(invoices)}  # ids differ between the two ways
    events = [
        (e.organization_id, e.type, position.get(e.data.get("id")), e.data.get("total"), e.data.get("status"))
        for e in db.session.scalars(select(Event).where(Event.organization_id.in_(org_ids)).order_by(Event.id))
        if e.type.startswith("invoice.")
    ]
    deliveries = [
        (d.organization_id, d.endpoint_id, d.status)
        for d in db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.organization_id.in_(org_ids)).order_by(WebhookDelivery.id)
        )
    ]
    notices = [  # the numbers are the same both ways (the counter rolls back); the links name invoice ids
        (n.user_id, n.organization_id, n.type, n.title)
        for n in db.session.scalars(
            select(Notification).where(Notification.organization_id.in_(org_ids)).order_by(Notification.id)
        )
    ]
    return events, deliveries, notices


def test_the_runs_batch_of_subscribers_makes_what_one_by_one_finalization_makes(ctx, monkeypatch):
    orgs, services = [], {}
    for n, fee in enumerate((3_000, 4_500, 0)):
        org, owner = org_with_owner()
        services[org.id] = billing.create_service(
            org,
            None,
            type="POS_TERMINAL",
            name=f"Till {n}",
            monthly_fee=fee,
            activated_at=datetime(2025, 1, 1, tzinfo=UTC),
        )
        if n != 1:  # the second organization has no endpoint: its event is recorded, nothing delivered
            endpoint_for(org, owner, f"https://hooks{n}.example/tessera")
        orgs.append(org)
    db.session.commit()
    org_ids = [org.id for org in orgs]
    batches = []

    def counting(name, items, **kwargs):
        batches.append((name, len(items)))
        return bus.emit_many(name, items, **kwargs)

    monkeypatch.setattr("webapp.billing.services.invoices.emit_many", counting)
    try:
        billing.run_billing("2026-11", send_emails=False)
        db.session.flush()
        by_run = _what_subscribers_made(org_ids)
    finally:
        db.session.rollback()

    drafts = []
    for org in orgs:
        service = services[org.id]
        invoice = billing.create_draft_invoice(billing.billing_account_for(org), period_start=NOV[0], period_end=NOV[1])
        invoice.run_period = "2026-11"
        billing.add_line_item(
            invoice, f"{service.name} ({display.label(service.type)}) Nov 2026", 1, service.monthly_fee, service=service
        )
        drafts.append(invoice)
    for invoice in drafts:
        billing.finalize_invoice(invoice, None, send_email=False)
    db.session.flush()
    one_by_one = _what_subscribers_made(org_ids)
    db.session.rollback()

    assert ("invoice.issued", 3) in batches  # the three invoices reached the subscribers in one call
    assert by_run == one_by_one
    events, deliveries, notices = by_run
    assert [(org, kind) for org, kind, *_ in events].count((org_ids[0], "invoice.finalized")) == 1
    assert {org for org, *_ in deliveries} == {org_ids[0], org_ids[2]}
    assert {org for _, org, *_ in notices} == set(org_ids)  # each owner is told


def test_emit_many_calls_a_batch_form_once_and_other_subscribers_per_event():
    calls = []

    def one(event):
        calls.append(("one", event.org_id))

    def plain(event):
        calls.append(("plain", event.org_id, event.data["n"]))

    @bus.batch_form_of(one)
    def many(events):
        calls.append(("many", [e.org_id for e in events]))

    bus._subscribers["test.batched"].extend([one, plain])
    try:
        bus.emit_many("test.batched", [{"org": 1, "n": 0}, {"org": 2, "n": 1}], actor=None)
        bus.emit("test.batched", org=3, n=2)
    finally:
        bus._subscribers.pop("test.batched", None)
        bus._batch_forms.pop(one, None)
    assert calls == [("many", [1, 2]), ("plain", 1, 0), ("plain", 2, 1), ("one", 3), ("plain", 3, 2)]
