"""Reactions to billing: a paid invoice activates a trial or a past-due subscription; an overdue one
makes it PAST_DUE (dunning then runs on the billing account)."""

from __future__ import annotations

from webapp.core.events import Event, subscribe
from webapp.subscriptions import billing_bridge
from webapp.subscriptions.services import subscription_collection_failed, subscription_overdue, subscription_paid


def _subscription_id(event: Event) -> int | None:
    return event.data.get("subscription_id") or billing_bridge.subscription_of_invoice(event.data.get("invoice_id"))


@subscribe("invoice.paid")
def activate_on_payment(event: Event) -> None:
    sub_id = _subscription_id(event)
    if sub_id:
        subscription_paid(sub_id)


@subscribe("invoice.overdue")
def past_due_on_overdue(event: Event) -> None:
    sub_id = _subscription_id(event)
    if sub_id:
        subscription_overdue(sub_id)


@subscribe("invoice.collection_failed")
def incomplete_or_past_due_on_failed_charge(event: Event) -> None:
    sub_id = _subscription_id(event)
    if sub_id:
        subscription_collection_failed(sub_id, event.data.get("invoice_id"))
