"""Services (POS terminals, maintenance…) an organization is billed for monthly."""

from __future__ import annotations

from sqlalchemy import select

from webapp.audit import record
from webapp.billing.models import (
    SERVICE_ACTIVE,
    SERVICE_CANCELLED,
    SERVICE_SUSPENDED,
    SERVICE_TYPES,
    Service,
)
from webapp.core.errors import DomainError, IllegalTransition
from webapp.core.models import utcnow
from webapp.extensions import db


def _check(type_: str, name: str, monthly_fee: int) -> str:
    if type_ not in SERVICE_TYPES:
        raise DomainError("Choose a service type from the list.", field="type")
    name = (name or "").strip()
    if not name:
        raise DomainError("Name the service.", field="name")
    if not isinstance(monthly_fee, int) or monthly_fee < 0 or monthly_fee > 10**9:
        raise DomainError("Enter a monthly fee of zero or more.", field="monthly_fee")
    return name


def create_service(
    org,
    actor,
    *,
    type: str,
    name: str,
    monthly_fee: int,
    hardware_serial: str | None = None,
    currency: str = "USD",
    activated_at=None,
) -> Service:
    name = _check(type, name, monthly_fee)
    service = Service(
        organization_id=getattr(org, "id", org),
        created_by_id=getattr(actor, "id", None),
        type=type,
        name=name[:120],
        monthly_fee=monthly_fee,
        hardware_serial=(hardware_serial or "").strip()[:64] or None,
        currency=currency,
        status=SERVICE_ACTIVE,
        activated_at=activated_at or utcnow(),
    )
    db.session.add(service)
    db.session.flush()
    record(actor, "service.created", service, {"type": type, "monthly_fee": monthly_fee})
    return service


def update_service(service: Service, actor, *, name: str, monthly_fee: int, hardware_serial: str | None) -> Service:
    name = _check(service.type, name, monthly_fee)
    before = {"name": service.name, "monthly_fee": service.monthly_fee, "hardware_serial": service.hardware_serial}
    service.name = name[:120]
    service.monthly_fee = monthly_fee
    service.hardware_serial = (hardware_serial or "").strip()[:64] or None
    record(actor, "service.updated", service, {"before": before})
    return service


def suspend_service(service: Service, actor, *, by_dunning: bool = False) -> Service:
    if service.status != SERVICE_ACTIVE:
        raise IllegalTransition(f"This service is {service.status.title()}; only an active one can be suspended.")
    service.status = SERVICE_SUSPENDED
    service.suspended_at = utcnow()
    service.suspended_by_dunning = by_dunning
    record(actor, "service.suspended", service, {"by_dunning": by_dunning})
    return service


def activate_service(service: Service, actor) -> Service:
    if service.status != SERVICE_SUSPENDED:
        raise IllegalTransition(f"This service is {service.status.title()}; only a suspended one can be activated.")
    service.status = SERVICE_ACTIVE
    service.suspended_at = None
    service.suspended_by_dunning = False
    record(actor, "service.reactivated", service)
    return service


def cancel_service(service: Service, actor) -> Service:
    if service.status == SERVICE_CANCELLED:
        raise IllegalTransition("This service is already cancelled.")
    service.status = SERVICE_CANCELLED
    service.cancelled_at = utcnow()
    record(actor, "service.cancelled", service)
    return service


def services_of(org) -> list[Service]:
    stmt = select(Service).where(Service.organization_id == getattr(org, "id", org)).order_by(Service.id)
    return list(db.session.scalars(stmt))
