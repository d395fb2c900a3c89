"""The usage API's models: the events sent in, what the answer says of them, and the aggregates read out.

``UsageEvent`` states every rule of an event (the document's schema is generated from it); the
ingestion hot path checks the same rules by hand (``webapp.usage.services.validate``, for speed), and
tests/usage proves the two agree on generated events.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from webapp.core.api_schemas import Instant
from webapp.core.contract import ApiModel, DescribedAs, Params, Refusal
from webapp.core.models import utcnow
from webapp.core.parsing import parse_month
from webapp.usage import services
from webapp.usage.services import MAX_AGE, MAX_AHEAD, MAX_BATCH, MAX_DATA_BYTES, MAX_QUANTITY, REJECTIONS

MONTH_PATTERN = "^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])$"  # what webapp.core.parsing.parse_month takes
MAX_MONTHS = 24


def _rejected(code: str) -> Refusal:
    return Refusal(REJECTIONS[code], code=code)


# ------------------------------------------------------------------ one event


def _whole(value: Any) -> Any:
    """JSON Schema's integer: 4384.0 is the whole number 4384."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _in_window(moment: datetime, info: ValidationInfo) -> datetime:
    now = (info.context or {}).get("now") or utcnow()
    if moment < now - MAX_AGE:
        raise PydanticCustomError("timestamp_too_old", REJECTIONS["timestamp_too_old"])
    if moment > now + MAX_AHEAD:
        raise PydanticCustomError("timestamp_in_future", REJECTIONS["timestamp_in_future"])
    return moment


def _small(data: dict | None) -> dict | None:
    if data is not None and len(services._compact_json(data)) > MAX_DATA_BYTES:
        raise PydanticCustomError("data_too_large", REJECTIONS["data_too_large"])
    return data


class UsageEvent(ApiModel):
    """One usage event. Send it alone, or up to 1,000 of them as a UsageEventBatch."""

    model_config = ConfigDict(extra="forbid", strict=True)
    refusals = (
        Refusal(REJECTIONS["unknown_field"], code="unknown_field", on=("extra_forbidden",)),
        _rejected("invalid_event"),
    )

    event_id: Annotated[
        str,
        Field(
            pattern=services.EVENT_ID.pattern,
            description="Chosen by you; the same id is stored once (idempotency).",
        ),
        _rejected("invalid_event_id"),
    ]
    event_type: Annotated[
        str,
        Field(pattern=services.EVENT_TYPE.pattern, description="The metric code, e.g. pos.transaction."),
        _rejected("invalid_event_type"),
    ]
    quantity: Annotated[int, Field(ge=0, le=MAX_QUANTITY), BeforeValidator(_whole), _rejected("invalid_quantity")] = 1
    timestamp: Annotated[
        Instant,
        AfterValidator(_in_window),
        Field(description="ISO 8601 with time zone; within the last 35 days, at most 5 minutes ahead."),
        Refusal(REJECTIONS["missing_timestamp"], code="missing_timestamp", on=("missing",)),
        _rejected("invalid_timestamp"),
    ]
    data: Annotated[
        dict[str, Any] | None,
        AfterValidator(_small),
        Field(description="Optional details (at most 4 KB as JSON)."),
        _rejected("invalid_data"),
    ] = None


class UsageEventBatch(ApiModel):
    """Up to 1,000 events; each is checked on its own, and an invalid one is listed under rejected."""

    refusals = (Refusal('A batch is {"events": [...]} and nothing else.', code="invalid_body"),)

    events: Annotated[
        list[Annotated[Any, Field(description="A UsageEvent; an invalid one is rejected on its own, with a code.")]],
        Field(min_length=1, max_length=MAX_BATCH),
        Refusal("The batch has no events.", code="empty_batch", on=("too_short",)),
        Refusal(
            f"A batch holds at most {MAX_BATCH:,} events.",
            code="batch_too_large",
            status=413,
            on=("too_long",),
            details=lambda error: {"max_events": MAX_BATCH, "received": error["ctx"]["actual_length"]},
        ),
        Refusal("events is a list of event objects.", code="invalid_body"),
    ]


def _shape(body: Any) -> str | None:
    if isinstance(body, dict):
        return "batch" if "events" in body else "event"
    return None


class UsageEventsBody(RootModel):
    """One event (checked as each event of a batch is: a bad one answers validation_failed), or a batch."""

    __tags__: ClassVar[dict] = {"batch": UsageEventBatch}
    refusals: ClassVar[tuple[Refusal, ...]] = ()

    root: Annotated[
        Annotated[dict[str, Any], Tag("event"), DescribedAs(UsageEvent)] | Annotated[UsageEventBatch, Tag("batch")],
        Discriminator(
            _shape,
            custom_error_type="invalid_body",
            custom_error_message='Send one event object, or {"events": [...]} with up to 1,000 events.',
        ),
    ]

    @property
    def events(self) -> list:
        return self.root.events if isinstance(self.root, UsageEventBatch) else [self.root]

    @property
    def single(self) -> bool:
        return not isinstance(self.root, UsageEventBatch)


# ------------------------------------------------------------------ the answer


if TYPE_CHECKING:  # a Literal built from the table at run time; a type checker cannot read it, so a string
    RejectionCode = str
else:
    RejectionCode = Literal[tuple(REJECTIONS)]


class RejectedEvent(ApiModel):
    index: Annotated[int | None, Field(description="Position in the batch (null for period_closed).")]
    event_id: str | None
    code: RejectionCode
    message: str


class IngestCounts(ApiModel):
    accepted: Annotated[int, Field(ge=0)]
    duplicate: Annotated[int, Field(ge=0)]
    rejected: Annotated[int, Field(ge=0)]


class IngestResult(ApiModel):
    accepted: Annotated[list[str], Field(description="Stored now.")]
    duplicate: Annotated[
        list[str], Field(description="Already stored earlier (or twice in this batch): not counted again.")
    ]
    rejected: list[RejectedEvent]
    counts: IngestCounts


# ------------------------------------------------------------------ aggregates


def _month(value: Any) -> date:
    """``webapp.core.parsing.parse_month``'s rule; its words become the refusal's."""
    return parse_month(value) if isinstance(value, str) else value


Month = Annotated[date, BeforeValidator(_month), WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN})]


class UsageParams(Params):
    from_: Annotated[
        Month | None,
        Field(alias="from", description="First month, YYYY-MM, 1900-01 to 2199-12 (default: last month)."),
        Refusal("{param}: {error}"),
    ] = None
    to: Annotated[
        Month | None,
        Field(description="Last month, YYYY-MM, 1900-01 to 2199-12 (default: this month)."),
        Refusal("{param}: {error}"),
    ] = None
    metric: Annotated[str | None, Field(description="Only this metric.")] = None

    @model_validator(mode="after")
    def _window(self):
        current = services.month_start(utcnow())
        if self.from_ is None:
            self.from_ = services.month_start(current - timedelta(days=1)).date()
        if self.to is None:
            self.to = current.date()
        if self.to < self.from_:
            raise PydanticCustomError("invalid_parameter", "to is before from.", {"param": "to"})
        if (self.to.year - self.from_.year) * 12 + self.to.month - self.from_.month >= MAX_MONTHS:
            raise PydanticCustomError(
                "invalid_parameter", f"Ask for at most {MAX_MONTHS} months at a time.", {"param": "from"}
            )
        return self

    def months(self) -> tuple[datetime, datetime]:
        """The first and the last month asked for, as the UTC instants they start at."""
        first, last = self.from_, self.to
        if first is None or last is None:  # the model's validator fills both in
            raise ValueError("months() of a period whose validator has not run")
        return (
            datetime(first.year, first.month, 1, tzinfo=UTC),
            datetime(last.year, last.month, 1, tzinfo=UTC),
        )


class UsageAggregate(ApiModel):
    metric: str
    name: str
    unit: str
    aggregation: Literal["count", "sum", "max", "unique_count"]
    period_start: datetime
    period_end: datetime
    value: Annotated[int, Field(description="The metric's aggregation: what is billed.")]
    event_count: int
    sum: int
    max: int
    unique_count: int
    closed: Annotated[bool, Field(description="Final: the billing run has closed the period.")]


class UsageList(ApiModel):
    data: list[UsageAggregate]
