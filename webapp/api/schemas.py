"""The API's views of billing's services and invoices."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, get_args

from pydantic import Field

from webapp.core.api_schemas import Page, UtcTime, page_of, status_refusal
from webapp.core.contract import ApiModel, InPath, Params

ServiceStatus = Literal["ACTIVE", "SUSPENDED", "CANCELLED"]
InvoiceStatus = Literal[
    "ISSUED", "PARTIAL", "PAID", "OVERDUE", "VOID", "REFUNDED"
]  # finalized ones: drafts are not shown
SERVICE_STATUSES: tuple[str, ...] = get_args(ServiceStatus)
INVOICE_STATUSES: tuple[str, ...] = get_args(InvoiceStatus)

NullableText = str | None
NullableTime = UtcTime | None

# ------------------------------------------------------------------ services and invoices


class Service(ApiModel):
    id: int
    type: str
    name: str
    status: ServiceStatus
    hardware_serial: NullableText
    monthly_fee: Annotated[int, Field(description="Cents.")]
    currency: Annotated[str, Field(min_length=3, max_length=3)]
    activated_at: NullableTime
    suspended_at: NullableTime
    cancelled_at: NullableTime


ServiceList = page_of(Service, "ServiceList")


class ServiceListParams(Page):
    status: Annotated[ServiceStatus | None, status_refusal(SERVICE_STATUSES)] = None


class InvoiceLine(ApiModel):
    description: str
    quantity: int
    unit_price: Annotated[int, Field(description="Cents.")]
    total: Annotated[int, Field(description="Cents.")]
    metric: NullableText
    service_id: int | None


class InvoiceSummary(ApiModel):
    amount_due: int
    amount_paid: int
    currency: Annotated[str, Field(min_length=3, max_length=3)]
    due_at: NullableTime
    id: int
    issued_at: NullableTime
    number: Annotated[str, Field(pattern="^INV-[0-9]{4}-[0-9]{6}$")]
    paid_at: NullableTime
    period_end: date
    period_start: date
    status: InvoiceStatus
    subscription_id: int | None
    subtotal: int
    tax: int
    total: int


class Invoice(InvoiceSummary):
    lines: list[InvoiceLine]


InvoiceList = page_of(InvoiceSummary, "InvoiceList")


class InvoiceListParams(Page):
    status: Annotated[InvoiceStatus | None, status_refusal(INVOICE_STATUSES)] = None


class InvoiceParams(Params):
    invoice_id: Annotated[int, InPath()]
