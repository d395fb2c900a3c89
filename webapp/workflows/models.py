"""Workflows (seed 003): a trigger and ordered steps, stored credentials, runs and their logs, templates."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigId, JobRunMixin, OrgOwnedMixin, TimestampMixin, utcnow
from webapp.core.terms import N_
from webapp.extensions import Model
from webapp.jobs.lease import LeaseMixin
from webapp.secrets import EncryptedColumns, encrypted_fields

TRIGGER_SCHEDULE, TRIGGER_WEBHOOK, TRIGGER_EVENT, TRIGGER_MANUAL = "schedule", "webhook", "event", "manual"
TRIGGER_TYPES = (TRIGGER_SCHEDULE, TRIGGER_WEBHOOK, TRIGGER_EVENT, TRIGGER_MANUAL)


if TYPE_CHECKING:
    _WebhookSecret = EncryptedColumns
else:
    _WebhookSecret = encrypted_fields("webhook_secret")


# The fields a run's trigger sends from Tessera itself, as its log names them (``label``).
TRIGGER_WORDS = (N_("Started by"),)


class Workflow(TimestampMixin, OrgOwnedMixin, _WebhookSecret, Model):
    __tablename__ = "workflows"
    __table_args__ = (Index("ix_workflows_due", "trigger_type", "enabled", "next_run_at"),)

    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    trigger_type: Mapped[str] = mapped_column(String(16), default=TRIGGER_MANUAL)
    # schedule: {"cron": "0 9 * * 1"}; event: {"event": "video.ready"}; webhook/manual: {}
    trigger_config: Mapped[dict] = mapped_column(default=dict)
    next_run_at: Mapped[datetime | None]
    max_concurrency: Mapped[int] = mapped_column(Integer, default=1)
    template_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("workflow_templates.id", ondelete="SET NULL"), nullable=True
    )
    last_run_at: Mapped[datetime | None]

    steps: Mapped[list[WorkflowStep]] = relationship(
        back_populates="workflow", order_by="WorkflowStep.position", cascade="all, delete-orphan"
    )

    @property
    def trigger_label(self) -> str:
        from webapp.core.display import translated

        if self.trigger_type == TRIGGER_SCHEDULE:
            return f"{translated('Schedule')} · {self.trigger_config.get('cron', '')}"
        if self.trigger_type == TRIGGER_EVENT:
            return f"{translated('Event')} · {self.trigger_config.get('event', '')}"
        if self.trigger_type == TRIGGER_WEBHOOK:
            return translated("Inbound webhook")
        return translated("Manual")

    @property
    def missing_credentials(self) -> list[WorkflowStep]:
        return [s for s in self.steps if s.credential_placeholder and s.credential_id is None]


class WorkflowStep(TimestampMixin, Model):
    __tablename__ = "workflow_steps"

    workflow_id: Mapped[int] = mapped_column(BigId, ForeignKey("workflows.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120), default="")
    config: Mapped[dict] = mapped_column(default=dict)
    credential_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("workflow_credentials.id", ondelete="SET NULL"), nullable=True
    )
    # From a template: the credential the installer still has to choose (e.g. "slack").
    credential_placeholder: Mapped[str | None] = mapped_column(String(64))

    workflow: Mapped[Workflow] = relationship(back_populates="steps")
    credential = relationship("WorkflowCredential")


if TYPE_CHECKING:
    _CredentialSecret = EncryptedColumns
else:
    _CredentialSecret = encrypted_fields("secret")


class WorkflowCredential(TimestampMixin, OrgOwnedMixin, _CredentialSecret, Model):
    """A secret a step uses; written once, shown again only as a fingerprint."""

    __tablename__ = "workflow_credentials"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    API_KEY_HEADER, BEARER, BASIC, OAUTH = "api_key_header", "bearer", "basic", "oauth_connection"
    KINDS = {
        API_KEY_HEADER: N_("API key header"),
        BEARER: N_("Bearer token"),
        BASIC: N_("Basic auth"),
        OAUTH: N_("OAuth connection"),
    }

    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(24))
    header_name: Mapped[str | None] = mapped_column(String(80))
    username: Mapped[str | None] = mapped_column(String(120))
    connection_id: Mapped[int | None] = mapped_column(BigId)  # integrations' OAuth connection
    fingerprint: Mapped[str] = mapped_column(String(32), default="")
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def kind_label(self) -> str:
        return self.KINDS.get(self.kind, self.kind)


class CredentialUsage(Model):
    """Seed 003 credential usage log: which workflow, run and step used a credential, when, and whether it worked."""

    __tablename__ = "workflow_credential_usages"

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workflow_credentials.id", ondelete="CASCADE"), index=True
    )
    workflow_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("workflows.id", ondelete="SET NULL"))
    run_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("workflow_runs.id", ondelete="SET NULL"))
    step_position: Mapped[int | None] = mapped_column(Integer)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean, default=True)


class WorkflowRun(LeaseMixin, JobRunMixin, TimestampMixin, Model):
    """One execution (seed 003 ``ExecutionLog``), written as it goes."""

    __tablename__ = "workflow_runs"
    __table_args__ = (Index("ix_workflow_runs_workflow_status", "workflow_id", "status"),)

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    workflow_id: Mapped[int] = mapped_column(BigId, ForeignKey("workflows.id", ondelete="CASCADE"), index=True)
    trigger_type: Mapped[str] = mapped_column(String(16))
    trigger_payload: Mapped[dict] = mapped_column(default=dict)
    next_position: Mapped[int] = mapped_column(Integer, default=1)
    outputs: Mapped[dict] = mapped_column(default=dict)
    resume_at: Mapped[datetime | None] = mapped_column(index=True)
    failed_position: Mapped[int | None] = mapped_column(Integer)

    workflow: Mapped[Workflow] = relationship()
    step_runs: Mapped[list[WorkflowStepRun]] = relationship(
        back_populates="run",
        order_by="(WorkflowStepRun.position, WorkflowStepRun.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def is_waiting(self) -> bool:
        return self.status == self.QUEUED and self.resume_at is not None


class WorkflowStepRun(Model):
    __tablename__ = "workflow_step_runs"

    PENDING, RUNNING, SUCCEEDED, FAILED, SKIPPED, WAITING = (
        "PENDING",
        "RUNNING",
        "SUCCEEDED",
        "FAILED",
        "SKIPPED",
        "WAITING",
    )

    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("workflow_runs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    step_type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    output_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    run: Mapped[WorkflowRun] = relationship(back_populates="step_runs")


class WorkflowTemplate(TimestampMixin, Model):
    """Marketplace entry, published by staff: a workflow definition with credential placeholders."""

    __tablename__ = "workflow_templates"

    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    category: Mapped[str] = mapped_column(String(40), default="General")
    description: Mapped[str] = mapped_column(Text, default="")
    definition: Mapped[dict] = mapped_column(default=dict)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    install_count: Mapped[int] = mapped_column(Integer, default=0)


class PendingInvoiceLine(TimestampMixin, Model):
    """A workflow's "add a line to the next invoice": waits for staff approval before billing sees it."""

    __tablename__ = "workflow_invoice_lines"

    PENDING, APPROVED, REJECTED = "PENDING", "APPROVED", "REJECTED"

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    workflow_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("workflows.id", ondelete="SET NULL"))
    run_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("workflow_runs.id", ondelete="SET NULL"))
    description: Mapped[str] = mapped_column(String(255))
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    billing_reference: Mapped[str | None] = mapped_column(String(64))

    organization = relationship("Organization")
