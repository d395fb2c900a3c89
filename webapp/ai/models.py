"""AI (seed 004 ``AiCreditBalance``, ``AiCreditTransaction``, ``AiUsageLog``; seed 003 ``AIPromptTemplate``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import BigId, OrgOwnedMixin, TimestampMixin, utcnow
from webapp.extensions import Model

SERVICES = (
    "TASK_GENERATION",
    "SMART_NOTIFICATIONS",
    "PROJECT_ANALYSIS",
    "CHAT_ASSISTANT",
    "DOCUMENT_ANALYSIS",
    "WORKFLOW_OPTIMIZATION",
    "CAPTION_SUGGESTIONS",
)

PURCHASE, SUBSCRIPTION_GRANT, USAGE, REFUND, BONUS, ADMIN_ADJUSTMENT = (
    "PURCHASE",
    "SUBSCRIPTION_GRANT",
    "USAGE",
    "REFUND",
    "BONUS",
    "ADMIN_ADJUSTMENT",
)
TRANSACTION_TYPES = (PURCHASE, SUBSCRIPTION_GRANT, USAGE, REFUND, BONUS, ADMIN_ADJUSTMENT)


class AiCreditBalance(TimestampMixin, Model):
    """One per organization. ``grant_remaining`` is the part of ``balance`` that came from the plan
    grant of the current period: it is spent first and expires at the next reset."""

    __tablename__ = "ai_credit_balances"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), unique=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    grant_remaining: Mapped[int] = mapped_column(Integer, default=0)
    period_grant: Mapped[int] = mapped_column(Integer, default=0)
    total_purchased: Mapped[int] = mapped_column(Integer, default=0)
    total_used: Mapped[int] = mapped_column(Integer, default=0)
    last_reset: Mapped[datetime] = mapped_column(default=utcnow)
    next_reset: Mapped[datetime] = mapped_column(index=True)


class AiCreditTransaction(Model):
    __tablename__ = "ai_credit_transactions"
    __table_args__ = (Index("ix_ai_credit_transactions_org_id", "organization_id", "id"),)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    type: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(Integer)  # positive adds, negative uses
    balance_after: Mapped[int | None] = mapped_column(Integer)
    service: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(255), default="")
    details: Mapped[dict] = mapped_column(default=dict)
    purchase_amount_cents: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))

    user = relationship("User")


class AiUsageLog(Model):
    __tablename__ = "ai_usage_logs"
    __table_args__ = (Index("ix_ai_usage_logs_org_id", "organization_id", "id"),)

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    service: Mapped[str] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(64))
    credits_reserved: Mapped[int] = mapped_column(Integer, default=0)
    credits_used: Mapped[int] = mapped_column(Integer, default=0)
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    model: Mapped[str | None] = mapped_column(String(80))
    processing_ms: Mapped[int | None] = mapped_column(Integer)
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    error_message: Mapped[str | None] = mapped_column(Text)


class AiCreditPurchase(TimestampMixin, Model):
    """Credits bought through billing: granted only when the invoice is paid."""

    __tablename__ = "ai_credit_purchases"

    PENDING, PAID, CANCELLED = "PENDING", "PAID", "CANCELLED"

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    credits: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    invoice_id: Mapped[int | None] = mapped_column(BigId, index=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    paid_at: Mapped[datetime | None]


class AiPromptTemplate(TimestampMixin, Model):
    """Seed 003 ``AIPromptTemplate``: staff-managed prompts, one active per service and purpose."""

    __tablename__ = "ai_prompt_templates"
    __table_args__ = (UniqueConstraint("service", "key"),)

    service: Mapped[str] = mapped_column(String(32), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(40), default="general")
    system_prompt: Mapped[str] = mapped_column(Text)
    user_template: Mapped[str] = mapped_column(Text)
    max_tokens: Mapped[int] = mapped_column(Integer, default=600)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))


class AiChatMessage(Model):
    """The organization chat assistant's conversation, per member."""

    __tablename__ = "ai_chat_messages"
    __table_args__ = (Index("ix_ai_chat_messages_org_user", "organization_id", "user_id", "id"),)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)


class AiTaskProposal(TimestampMixin, OrgOwnedMixin, Model):
    """Tasks the AI proposed for a project (from a goal, or from an analysed document), stored so the
    page after the redirect reads them instead of asking again; accepted once, into real tasks."""

    __tablename__ = "ai_task_proposals"

    PROPOSED, ACCEPTED, DISCARDED = "PROPOSED", "ACCEPTED", "DISCARDED"

    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    goal: Mapped[str] = mapped_column(Text, default="")
    # [{"title", "description", "due_in_days", "assignee_id"}], validated before they are stored
    tasks: Mapped[list] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default=PROPOSED)
    source_report_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ai_reports.id", ondelete="SET NULL"))
    usage_log_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ai_usage_logs.id", ondelete="SET NULL"))
    created_task_ids: Mapped[list] = mapped_column(default=list)
    accepted_at: Mapped[datetime | None]

    project = relationship("Project")


class AiReport(TimestampMixin, OrgOwnedMixin, Model):
    """One AI analysis: of a project, a document or a workflow's runs. ``figures`` are what Tessera
    computed from its own data (shown as such); ``narrative`` is what the AI wrote about them."""

    __tablename__ = "ai_reports"
    __table_args__ = (Index("ix_ai_reports_subject", "organization_id", "kind", "subject_id", "id"),)

    PROJECT, DOCUMENT, WORKFLOW = "project", "document", "workflow"

    kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int | None] = mapped_column(BigId)  # the project or workflow (documents: none)
    title: Mapped[str] = mapped_column(String(500), default="")
    figures: Mapped[dict] = mapped_column(default=dict)
    narrative: Mapped[str] = mapped_column(Text, default="")
    # documents: summary, key dates and amounts, suggested tasks; workflows: the suggestions
    details: Mapped[dict] = mapped_column(default=dict)
    usage_log_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ai_usage_logs.id", ondelete="SET NULL"))
    credits_used: Mapped[int] = mapped_column(Integer, default=0)

    created_by = relationship("User")
