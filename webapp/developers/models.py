"""Events (what happened, as the JSON API shows it), webhook endpoints, deliveries and their attempts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.models import OrgOwnedMixin, TimestampMixin, utcnow
from webapp.extensions import Model
from webapp.secrets.fields import EncryptedColumns, encrypted_fields

BigId = BigInteger().with_variant(Integer(), "sqlite")

PENDING, SUCCEEDED, FAILED = "PENDING", "SUCCEEDED", "FAILED"
DELIVERY_STATUSES = (PENDING, SUCCEEDED, FAILED)


class Event(Model):
    """One event of an organization; ``public_id`` (evt_…) is what customers see, ``id`` orders and pages."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_org_id", "organization_id", "id"),
        Index("ix_events_org_type_id", "organization_id", "type", "id"),
    )

    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    api_version: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    data: Mapped[dict] = mapped_column(default=dict)  # the object, as the JSON API shows it
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)  # "send test event": never listed by the API


if TYPE_CHECKING:
    _WebhookSecrets = EncryptedColumns
else:
    _WebhookSecrets = encrypted_fields("secret", "previous_secret")


class WebhookEndpoint(TimestampMixin, OrgOwnedMixin, _WebhookSecrets, Model):
    __tablename__ = "webhook_endpoints"

    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    event_types: Mapped[list] = mapped_column(default=list)
    ordered: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    secret_hint: Mapped[str] = mapped_column(String(16), default="")  # the secret's last characters, for the list
    previous_secret_expires_at: Mapped[datetime | None]
    failing_since: Mapped[datetime | None]

    created_by = relationship("User")

    @property
    def audit_label(self) -> str:
        return f"webhook endpoint {self.url[:80]}"


class WebhookDelivery(Model):
    """One event for one endpoint; sent until it succeeds or its retry window ends."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
        Index("ix_webhook_deliveries_endpoint_status_id", "endpoint_id", "status", "id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)  # retries stop 3 days after this
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship()
    event: Mapped[Event] = relationship()


class WebhookAttempt(Model):
    """One HTTP request of a delivery: what was sent and what came back."""

    __tablename__ = "webhook_attempts"

    organization_id: Mapped[int] = mapped_column(BigId, ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    delivery_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    request_body: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(400))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(String(300))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    delivery: Mapped[WebhookDelivery] = relationship()
