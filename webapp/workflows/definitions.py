"""A workflow as data — the shape templates, AI drafts and duplicates share — and its validation.

    {"trigger": {"type": "event", "event": "video.ready"},
     "steps": [{"type": "http_request", "name": "Tell Slack", "config": {...}, "credential": "slack"}],
     "credentials": {"slack": {"kind": "bearer", "label": "Slack token"}}}

Every step's settings are validated by its type's form, so a draft that reaches a person is runnable.
"""

from __future__ import annotations

from croniter import croniter

from webapp.core.errors import DomainError
from webapp.core.terms import N_
from webapp.workflows.models import TRIGGER_EVENT, TRIGGER_SCHEDULE, TRIGGER_TYPES, WorkflowCredential
from webapp.workflows.steps import STEP_TYPES

EVENTS = {
    "video.ready": N_("A video is ready"),
    "post.published": N_("A post was published"),
    "post.failed": N_("A post failed"),
    "invoice.issued": N_("An invoice was issued"),
    "invoice.overdue": N_("An invoice is overdue"),
    "invoice.paid": N_("An invoice was paid"),
    "payment.received": N_("A payment was received"),
    "ticket.opened": N_("A support ticket was opened"),
    "connection.expired": N_("A connection expired"),
}
MAX_STEPS = 25


class InvalidDefinition(DomainError):
    code = "invalid_workflow"


def check_trigger(trigger_type: str, config: dict) -> dict:
    if trigger_type not in TRIGGER_TYPES:
        raise InvalidDefinition(f"Unknown trigger “{trigger_type}”.", field="trigger_type")
    if trigger_type == TRIGGER_SCHEDULE:
        cron = " ".join(str(config.get("cron") or "").split())
        if not cron or len(cron.split()) != 5 or not croniter.is_valid(cron):
            raise InvalidDefinition("Enter a cron expression with five fields, e.g. 0 9 * * 1.", field="cron")
        return {"cron": cron}
    if trigger_type == TRIGGER_EVENT:
        event = config.get("event")
        if event not in EVENTS:
            raise InvalidDefinition("Choose an event.", field="event")
        return {"event": event}
    return {}


def validate_definition(definition) -> dict:
    """A normalized copy, or ``InvalidDefinition`` saying which step and field is wrong."""
    if not isinstance(definition, dict):
        raise InvalidDefinition("A workflow definition is an object with a trigger and steps.")
    trigger = definition.get("trigger") or {}
    if not isinstance(trigger, dict):
        raise InvalidDefinition("The trigger must be an object.")
    trigger_type = trigger.get("type", "manual")
    clean_trigger = {"type": trigger_type, **check_trigger(trigger_type, trigger)}
    credentials = definition.get("credentials") or {}
    if not isinstance(credentials, dict):
        raise InvalidDefinition("“credentials” must map placeholder names to their kind.")
    clean_credentials = {}
    for key, spec in credentials.items():
        kind = (spec or {}).get("kind") if isinstance(spec, dict) else None
        if kind not in WorkflowCredential.KINDS or not str(key).isidentifier():
            raise InvalidDefinition(f"Credential placeholder “{key}” needs a known kind.")
        clean_credentials[str(key)] = {"kind": kind, "label": str(spec.get("label") or key)[:120]}
    steps = definition.get("steps") or []
    if not isinstance(steps, list) or not steps:
        raise InvalidDefinition("A workflow needs at least one step.")
    if len(steps) > MAX_STEPS:
        raise InvalidDefinition(f"At most {MAX_STEPS} steps.")
    clean_steps = []
    for number, step in enumerate(steps, 1):
        if not isinstance(step, dict) or step.get("type") not in STEP_TYPES:
            raise InvalidDefinition(f"Step {number}: unknown step type “{(step or {}).get('type')}”.")
        kind = STEP_TYPES[step["type"]]
        config, errors = kind.validate(step.get("config") or {})
        if errors:
            name, messages = next(iter(errors.items()))
            raise InvalidDefinition(f"Step {number} ({kind.label}), {name}: {' '.join(map(str, messages))}")
        placeholder = step.get("credential")
        if placeholder is not None and (not kind.uses_credential or placeholder not in clean_credentials):
            raise InvalidDefinition(f"Step {number}: credential “{placeholder}” is not declared.")
        clean_steps.append(
            {
                "type": kind.type,
                "name": str(step.get("name") or kind.label)[:120],
                "config": config,
                "credential": placeholder,
            }
        )
    return {"trigger": clean_trigger, "steps": clean_steps, "credentials": clean_credentials}


def definition_of(workflow) -> dict:
    """The workflow as data (credential choices become placeholders named after the credential)."""
    credentials = {}
    steps = []
    for step in workflow.steps:
        placeholder = step.credential_placeholder
        if step.credential is not None:
            placeholder = placeholder or f"credential_{step.credential.id}"
            credentials[placeholder] = {"kind": step.credential.kind, "label": step.credential.name}
        elif placeholder:
            credentials.setdefault(placeholder, {"kind": "bearer", "label": placeholder})
        steps.append({"type": step.type, "name": step.name, "config": dict(step.config), "credential": placeholder})
    return {
        "trigger": {"type": workflow.trigger_type, **(workflow.trigger_config or {})},
        "steps": steps,
        "credentials": credentials,
    }
