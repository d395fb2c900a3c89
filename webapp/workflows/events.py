"""Tessera events start runs of the organization's enabled workflows that listen for them."""

from __future__ import annotations

from sqlalchemy import select

from webapp.core.events import Event, subscribe
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
