"""Tessera events start runs of the organization's enabled workflows that listen for them."""

from __future__ import annotations

from sqlalchemy import select

from webapp.core.events import Event, batch_form_of, subscribe
from webapp.extensions import db
from webapp.workflows.definitions import EVENTS
from webapp.workflows.models import TRIGGER_EVENT, Workflow


@subscribe(*EVENTS)
def start_event_workflows(event: Event) -> None:
    if event.org_id is None:
        return
    from webapp.workflows.execution import start_run

    workflows = db.session.scalars(
        select(Workflow).where(
            Workflow.organization_id == event.org_id,
            Workflow.trigger_type == TRIGGER_EVENT,
            Workflow.enabled.is_(True),
        )
    ).all()
    for workflow in workflows:
        if (workflow.trigger_config or {}).get("event") == event.name:
            start_run(workflow, TRIGGER_EVENT, {"event": event.name, **event.data})


@batch_form_of(start_event_workflows)
def start_event_workflows_many(events: list[Event]) -> None:
    """A billing run's invoices: one query for the enabled event workflows of their organizations."""
    from webapp.workflows.execution import start_run

    org_ids = {e.org_id for e in events if e.org_id is not None}
    if not org_ids:
        return
    by_org: dict[int | None, list[Workflow]] = {}  # an event without an organization finds none
    for workflow in db.session.scalars(
        select(Workflow)
        .where(
            Workflow.organization_id.in_(org_ids),
            Workflow.trigger_type == TRIGGER_EVENT,
            Workflow.enabled.is_(True),
        )
        .order_by(Workflow.id)
    ):
        by_org.setdefault(workflow.organization_id, []).append(workflow)
    for event in events:
        for workflow in by_org.get(event.org_id, ()):
            if (workflow.trigger_config or {}).get("event") == event.name:
                start_run(workflow, TRIGGER_EVENT, {"event": event.name, **event.data})
