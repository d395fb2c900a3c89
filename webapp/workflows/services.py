"""Workflow rules: building workflows and their steps, credentials, templates and staff approvals.
Plain functions: they flush, never commit, and audit every change. Runs live in ``execution``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import func, select

from webapp.audit import record
from webapp.core.errors import Conflict, DomainError
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.secrets import clear_field, decrypt_field, encrypt_field, has_field
from webapp.settings import define
from webapp.workflows.definitions import InvalidDefinition, check_trigger, validate_definition
from webapp.workflows.models import (
    TRIGGER_SCHEDULE,
    TRIGGER_WEBHOOK,
    PendingInvoiceLine,
    Workflow,
    WorkflowCredential,
    WorkflowStep,
    WorkflowTemplate,
)
from webapp.workflows.steps import STEP_TYPES

define("workflows.retention_days", int, 14, "Days run logs are kept before pruning", minimum=1, maximum=365)
define(
    "workflows.webhook_max_bytes", int, 65536, "Largest inbound webhook body in bytes", minimum=256, maximum=5_000_000
)
define("workflows.http_timeout_seconds", int, 15, "Timeout of a workflow HTTP step", minimum=1, maximum=120)
define("workflows.max_concurrency", int, 1, "Runs of one workflow executing at the same time", minimum=1, maximum=20)
define("workflows.max_workflows", int, 100, "Workflows per organization", minimum=1, maximum=10000)


# --- schedule -------------------------------------------------------------------------------------


def next_fire(workflow: Workflow, after: datetime, zone: str) -> datetime:
    """The next time the cron expression matches, read in the organization's time zone, as UTC."""
    local = after.astimezone(ZoneInfo(zone or "UTC"))
    return croniter(workflow.trigger_config["cron"], local).get_next(datetime).astimezone(ZoneInfo("UTC"))


def _reschedule(workflow: Workflow, org) -> None:
    if workflow.enabled and workflow.trigger_type == TRIGGER_SCHEDULE:
        workflow.next_run_at = next_fire(workflow, utcnow(), org.timezone)
    else:
        workflow.next_run_at = None


# --- workflows ------------------------------------------------------------------------------------


def create_workflow(
    org, actor, name: str, description: str = "", trigger_type: str = "manual", trigger_config: dict | None = None
) -> Workflow:
    from webapp.settings import get

    count = db.session.scalar(select(func.count(Workflow.id)).where(Workflow.organization_id == org.id)) or 0
    if count >= get("workflows.max_workflows"):
        raise DomainError("This organization has reached its number of workflows.", field="name")
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the workflow a name.", field="name")
    workflow = Workflow(
        organization_id=org.id,
        created_by_id=getattr(actor, "id", None),
        name=name[:120],
        description=(description or "").strip(),
        trigger_type=trigger_type,
        trigger_config=check_trigger(trigger_type, trigger_config or {}),
        enabled=False,
    )
    db.session.add(workflow)
    db.session.flush()
    if trigger_type == TRIGGER_WEBHOOK:
        encrypt_field(workflow, "webhook_secret", secrets.token_urlsafe(24))
    record(actor, "workflow.created", workflow, {"name": workflow.name, "trigger": trigger_type})
    return workflow


def update_workflow(
    workflow: Workflow,
    org,
    actor,
    *,
    name: str,
    description: str,
    trigger_type: str,
    trigger_config: dict,
    max_concurrency: int,
) -> Workflow:
    if not (name or "").strip():
        raise DomainError("Give the workflow a name.", field="name")
    workflow.trigger_config = check_trigger(trigger_type, trigger_config)
    workflow.name = name.strip()[:120]
    workflow.description = (description or "").strip()
    workflow.trigger_type = trigger_type
    workflow.max_concurrency = max(1, min(int(max_concurrency or 1), 20))
    if trigger_type == TRIGGER_WEBHOOK and not has_field(workflow, "webhook_secret"):
        encrypt_field(workflow, "webhook_secret", secrets.token_urlsafe(24))
    _reschedule(workflow, org)
    record(actor, "workflow.updated", workflow, {"trigger": trigger_type})
    return workflow


def set_enabled(workflow: Workflow, org, actor, enabled: bool) -> Workflow:
    if enabled:
        if not workflow.steps:
            raise Conflict("Add at least one step before enabling the workflow.")
        missing = workflow.missing_credentials
        if missing:
            names = ", ".join(f"step {s.position}" for s in missing)
            raise Conflict(f"Choose the credentials this workflow needs first ({names}).")
    workflow.enabled = enabled
    _reschedule(workflow, org)
    record(actor, "workflow.enabled" if enabled else "workflow.disabled", workflow)
    return workflow


def delete_workflow(workflow: Workflow, actor) -> None:
    record(actor, "workflow.deleted", workflow, {"name": workflow.name})
    db.session.delete(workflow)
    db.session.flush()


def duplicate_workflow(workflow: Workflow, org, actor) -> Workflow:
    copy = create_workflow(
        org,
        actor,
        f"Copy of {workflow.name}"[:120],
        workflow.description,
        workflow.trigger_type,
        dict(workflow.trigger_config or {}),
    )
    copy.max_concurrency = workflow.max_concurrency
    for step in workflow.steps:
        copy.steps.append(
            WorkflowStep(
                position=step.position,
                type=step.type,
                name=step.name,
                config=dict(step.config),
                credential_id=step.credential_id,
                credential_placeholder=step.credential_placeholder,
            )
        )
    db.session.flush()
    record(actor, "workflow.duplicated", copy, {"from": workflow.id})
    return copy


def rotate_webhook_secret(workflow: Workflow, actor) -> str:
    secret = secrets.token_urlsafe(24)
    encrypt_field(workflow, "webhook_secret", secret)
    record(actor, "workflow.webhook_secret_rotated", workflow)
    return secret


def webhook_secret(workflow: Workflow) -> str | None:
    return decrypt_field(workflow, "webhook_secret")


def webhook_secret_matches(workflow: Workflow, given: str) -> bool:
    expected = webhook_secret(workflow)
    if not expected:
        return False
    return hmac.compare_digest(expected.encode(), (given or "").encode())


# --- steps ----------------------------------------------------------------------------------------


def add_step(workflow: Workflow, actor, type_: str) -> WorkflowStep:
    kind = STEP_TYPES.get(type_)
    if kind is None:
        raise DomainError("Choose a step type.", field="type")
    if len(workflow.steps) >= 25:
        raise DomainError("At most 25 steps.", field="type")
    form = kind.make_form()
    config = {name: f.data for name, f in form._fields.items() if name != "credential_id"}
    step = WorkflowStep(position=len(workflow.steps) + 1, type=type_, name=kind.label, config=config)
    workflow.steps.append(step)
    db.session.flush()
    record(actor, "workflow.step_added", workflow, {"type": type_, "position": step.position})
    return step


def save_step(step: WorkflowStep, actor, form, name: str | None = None) -> WorkflowStep:
    """``form`` is the step type's form, already validated by the route."""
    kind = STEP_TYPES[step.type]
    step.config = kind.clean(form)
    if name is not None and name.strip():
        step.name = name.strip()[:120]
    if "credential_id" in form._fields:
        chosen = form.credential_id.data or None
        if chosen:
            credential = db.session.get(WorkflowCredential, chosen)
            if credential is None or credential.organization_id != step.workflow.organization_id:
                raise DomainError("Choose one of this organization's credentials.", field="credential_id")
            if credential.kind not in kind.credential_kinds:
                raise DomainError("That credential cannot be used by this step.", field="credential_id")
        step.credential_id = chosen
    record(actor, "workflow.step_saved", step.workflow, {"position": step.position, "type": step.type})
    return step


def move_step(step: WorkflowStep, actor, direction: str) -> None:
    steps = list(step.workflow.steps)
    index = steps.index(step)
    other = index - 1 if direction == "up" else index + 1
    if other < 0 or other >= len(steps):
        return
    steps[index], steps[other] = steps[other], steps[index]
    _renumber(steps)
    record(actor, "workflow.step_moved", step.workflow, {"type": step.type, "direction": direction})


def _renumber(steps: list[WorkflowStep]) -> None:
    # Two passes so a unique constraint on positions, if ever added, is never violated mid-way.
    for number, step in enumerate(steps, 1):
        step.position = number
    db.session.flush()


def remove_step(step: WorkflowStep, actor) -> None:
    workflow = step.workflow
    workflow.steps.remove(step)
    db.session.flush()
    _renumber(list(workflow.steps))
    record(actor, "workflow.step_removed", workflow, {"type": step.type})
    if not workflow.steps and workflow.enabled:
        workflow.enabled = False


# --- from a definition (templates, AI drafts) -----------------------------------------------------


def create_from_definition(
    org,
    actor,
    name: str,
    description: str,
    definition: dict,
    template: WorkflowTemplate | None = None,
    credential_choices: dict[str, int] | None = None,
) -> Workflow:
    clean = validate_definition(definition)
    trigger = dict(clean["trigger"])
    workflow = create_workflow(org, actor, name, description, trigger.pop("type"), trigger)
    workflow.template_id = template.id if template else None
    choices = credential_choices or {}
    for position, spec in enumerate(clean["steps"], 1):
        credential_id = None
        placeholder = spec.get("credential")
        if placeholder and choices.get(placeholder):
            credential = db.session.get(WorkflowCredential, choices[placeholder])
            if credential is None or credential.organization_id != org.id:
                raise DomainError("Choose one of this organization's credentials.", field=placeholder)
            wanted = clean["credentials"][placeholder]["kind"]
            if credential.kind != wanted:
                label = WorkflowCredential.KINDS[wanted]
                raise DomainError(f"“{placeholder}” needs a {label} credential.", field=placeholder)
            credential_id = credential.id
        workflow.steps.append(
            WorkflowStep(
                position=position,
                type=spec["type"],
                name=spec["name"],
                config=spec["config"],
                credential_id=credential_id,
                credential_placeholder=placeholder,
            )
        )
    db.session.flush()
    return workflow


def install_template(template: WorkflowTemplate, org, actor, credential_choices: dict[str, int]) -> Workflow:
    if not template.published:
        raise DomainError("That template is not published.")
    workflow = create_from_definition(
        org,
        actor,
        template.name,
        template.description,
        template.definition,
        template=template,
        credential_choices=credential_choices,
    )
    template.install_count = (template.install_count or 0) + 1
    record(actor, "workflow.template_installed", workflow, {"template": template.slug})
    return workflow


def save_template(
    template: WorkflowTemplate | None,
    actor,
    *,
    name: str,
    slug: str,
    category: str,
    description: str,
    definition: dict,
    published: bool,
) -> WorkflowTemplate:
    clean = validate_definition(definition)
    taken = db.session.scalar(select(WorkflowTemplate).where(WorkflowTemplate.slug == slug))
    if taken is not None and taken is not template:
        raise DomainError("Another template uses that address.", field="slug")
    if template is None:
        template = WorkflowTemplate()
        db.session.add(template)
    template.name, template.slug, template.category = name.strip()[:120], slug, category.strip()[:40] or "General"
    template.description = description.strip()
    template.definition = clean
    template.published = published
    db.session.flush()
    record(actor, "workflow_template.saved", template, {"slug": slug, "published": published})
    return template


# --- credentials ----------------------------------------------------------------------------------


def fingerprint(secret: str) -> str:
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


def create_credential(
    org,
    actor,
    *,
    name: str,
    kind: str,
    secret: str = "",
    header_name: str = "",
    username: str = "",
    connection_id: int | None = None,
) -> WorkflowCredential:
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the credential.", field="name")
    if kind not in WorkflowCredential.KINDS:
        raise DomainError("Choose a kind.", field="kind")
    exists = db.session.scalar(
        select(WorkflowCredential).where(WorkflowCredential.organization_id == org.id, WorkflowCredential.name == name)
    )
    if exists is not None:
        raise DomainError("A credential with that name exists.", field="name")
    credential = WorkflowCredential(
        organization_id=org.id, created_by_id=getattr(actor, "id", None), name=name[:80], kind=kind
    )
    if kind == WorkflowCredential.OAUTH:
        credential.connection_id = _check_connection(org, connection_id)
        credential.fingerprint = f"connection #{credential.connection_id}"
    else:
        if not secret:
            raise DomainError("Enter the secret.", field="secret")
        if len(secret) > 4000:
            raise DomainError("The secret is too long.", field="secret")
        if kind == WorkflowCredential.API_KEY_HEADER:
            header_name = (header_name or "").strip()
            if not header_name or not all(c.isalnum() or c in "-_" for c in header_name):
                raise DomainError("Enter the header name, e.g. X-API-Key.", field="header_name")
            credential.header_name = header_name[:80]
        if kind == WorkflowCredential.BASIC:
            if not (username or "").strip():
                raise DomainError("Enter the user name.", field="username")
            credential.username = username.strip()[:120]
        db.session.add(credential)
        db.session.flush()
        encrypt_field(credential, "secret", secret)
        credential.fingerprint = fingerprint(secret)
    db.session.add(credential)
    db.session.flush()
    record(actor, "workflow_credential.created", credential, {"name": credential.name, "kind": kind})
    return credential


def _check_connection(org, connection_id) -> int:
    """An OAuth connection of this organization from the integrations framework."""
    from webapp.workflows.bridges import connection_of

    if not connection_id:
        raise DomainError("Choose a connection.", field="connection_id")
    connection = connection_of(org, int(connection_id))
    if connection is None:
        raise DomainError("Choose one of this organization's connections.", field="connection_id")
    return connection.id


def replace_secret(credential: WorkflowCredential, actor, secret: str) -> None:
    if not secret or credential.kind == WorkflowCredential.OAUTH:
        raise DomainError("Enter the new secret.", field="secret")
    encrypt_field(credential, "secret", secret)
    credential.fingerprint = fingerprint(secret)
    record(actor, "workflow_credential.replaced", credential)


def delete_credential(credential: WorkflowCredential, actor) -> None:
    clear_field(credential, "secret")
    credential.revoked_at = utcnow()
    credential.name = f"{credential.name} (deleted {credential.id})"[:80]
    record(actor, "workflow_credential.deleted", credential)


# --- staff approval of invoice lines -------------------------------------------------------------


def decide_invoice_line(line: PendingInvoiceLine, actor, approve: bool) -> PendingInvoiceLine:
    if line.status != PendingInvoiceLine.PENDING:
        raise Conflict("That line was already decided.")
    line.status = PendingInvoiceLine.APPROVED if approve else PendingInvoiceLine.REJECTED
    line.decided_by_id = actor.id
    line.decided_at = utcnow()
    record(
        actor,
        "workflow_invoice_line.approved" if approve else "workflow_invoice_line.rejected",
        line,
        {"amount": line.amount_cents, "currency": line.currency},
        org=line.organization_id,
    )
    return line


__all__ = ["InvalidDefinition"]
