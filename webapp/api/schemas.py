"""The API's views of billing's services and invoices."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from webapp.core.api_schemas import Page, page_of, status_filter
from webapp.core.contract import ApiModel, InPath, Params

SERVICE_STATUSES = ("ACTIVE", "SUSPENDED", "CANCELLED")
INVOICE_STATUSES = ("ISSUED", "PARTIAL", "PAID", "OVERDUE", "VOID", "REFUNDED")  # finalized ones: drafts are not shown

NullableText = str | None
NullableTime = datetime | None

# ------------------------------------------------------------------ services and invoices


class Service(ApiModel):
    id: int
    type: str
    name: str
    status: Literal[SERVICE_STATUSES]
    hardware_serial: NullableText
    monthly_fee: Annotated[int, Field(description="Cents.")]
    currency: Annotated[str, Field(min_length=3, max_length=3)]
    activated_at: NullableTime
    suspended_at: NullableTime
    cancelled_at: NullableTime


ServiceList = page_of(Service, "ServiceList")


class ServiceListParams(Page):
    status: status_filter(SERVICE_STATUSES) = None


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
    status: Literal[INVOICE_STATUSES]
    subscription_id: int | None
    subtotal: int
    tax: int
    total: int


class Invoice(InvoiceSummary):
    lines: list[InvoiceLine]


InvoiceList = page_of(InvoiceSummary, "InvoiceList")


class InvoiceListParams(Page):
    status: status_filter(INVOICE_STATUSES) = None


class InvoiceParams(Params):
    invoice_id: Annotated[int, InPath()]
