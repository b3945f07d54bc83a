"""Request bodies, validated with pydantic (strict types, unknown fields refused)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from models import FINISHED, Command, DeliveryStatus, EventType, JobErrorCode, JobStatus, OrderStatus
from orders.cancel import BEING_APPLIED

# Bounds keep any order's total inside a signed 64-bit integer.
MAX_ITEMS = 100
MAX_QUANTITY = 1_000_000
MAX_UNIT_PRICE_CENTS = 10_000_000_000

_ISO_4217 = frozenset(currency.alpha_3 for currency in pycountry.currencies)
LISTED = [s for s in OrderStatus if s is not OrderStatus.DELETED]  # the API never shows a deleted order
# A cancel's 409 names what the job is instead: being applied, or finished.
NOT_CANCELLABLE = [BEING_APPLIED, JobStatus.SUCCEEDED.value, JobStatus.FAILED.value]


def _integral_float_to_int(value: object) -> object:
    # JSON has one number type: 2.0 is the integer 2 (JSON Schema agrees);
    # strings and fractions are still refused by the strict int check.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_integral_float_to_int)]


def _storable(value: str) -> str:
    # PostgreSQL text and jsonb cannot hold NUL (the schema says so), nor a lone
    # UTF-16 surrogate (a "\ud800" escape without its pair: not a character).
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise ValueError("must not contain unpaired surrogates (invalid Unicode)")
    return value


# Free text: what the database can store.
Text = Annotated[str, AfterValidator(_storable), Field(json_schema_extra={"pattern": "^[^\u0000]*$"})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Item(_Strict):
    sku: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    quantity: JsonInt = Field(gt=0, le=MAX_QUANTITY)
    unit_price_cents: JsonInt = Field(ge=0, le=MAX_UNIT_PRICE_CENTS)


class CreateOrder(_Strict):
    currency: str = Field(description="ISO 4217 code, e.g. USD", json_schema_extra={"enum": sorted(_ISO_4217)})
    items: list[Item] = Field(min_length=1, max_length=MAX_ITEMS)
    customer_ref: Annotated[Text, StringConstraints(min_length=1, max_length=100)] | None = None

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in _ISO_4217:
            raise ValueError("must be an ISO 4217 currency code in upper case, e.g. USD")
        return value


class OrderCommand(_Strict):
    # Create and delete have routes of their own (POST /orders, DELETE /orders/{id}).
    command: Literal[Command.PAY, Command.SHIP, Command.DELIVER, Command.CANCEL]


# Events in a webhook's body or an endpoint's list: JSON strings, read leniently
# (the models are strict) and kept as the enum.
EventName = Annotated[EventType, Field(strict=False)]
# The document says https (plain http is for tests only); the SSRF rules
# (webhooks/urls.py) check the rest, beyond what a schema can say.
WebhookUrl = Annotated[
    str, StringConstraints(min_length=1, max_length=2048), Field(json_schema_extra={"pattern": "^https://"})
]
WebhookDescription = Annotated[Text, StringConstraints(max_length=200)]


class CreateWebhook(_Strict):
    url: WebhookUrl = Field(description="https only; it must lead to a public address (checked at each delivery)")
    events: list[EventName] = Field(min_length=1, max_length=2)
    description: WebhookDescription | None = None


class UpdateWebhook(_Strict):
    url: WebhookUrl | None = None
    events: list[EventName] | None = Field(None, min_length=1, max_length=2)
    description: WebhookDescription | None = None
    enabled: bool | None = Field(None, description="true re-enables a disabled endpoint; false pauses it")


class RotateSecret(_Strict):
    overlap_hours: float = Field(
        24, ge=0, le=168, description="How long the old secret keeps signing beside the new one"
    )


# ---------------------------------------------------------------- answers
# What the API answers, for the OpenAPI document. orders/views.py builds the
# same shapes; tests/unit/test_openapi.py fails if the two ever drift apart.
class OrderItem(BaseModel):
    sku: str
    quantity: int
    unit_price_cents: int


class OrderOut(BaseModel):
    id: str = Field(description="UUID")
    tenant_id: str
    status: Annotated[OrderStatus, WithJsonSchema({"type": "string", "enum": [s.value for s in LISTED]})]
    version: int = Field(ge=1, description="Bumped by every applied command; the ETag")
    currency: str
    items: list[OrderItem]
    total_cents: int
    customer_ref: str | None
    created_at: str = Field(description="RFC 3339, UTC")
    updated_at: str


class JobError(BaseModel):
    code: JobErrorCode
    detail: str


class JobOut(BaseModel):
    id: str
    command: Command
    order_id: str = Field(description="The order the command is for (allocated at once for create)")
    status: JobStatus
    attempts: int
    error: JobError | None = Field(description="Why the job failed; null otherwise")
    created_at: str
    started_at: str | None
    finished_at: str | None


class EventOut(BaseModel):
    order_id: str
    version: int
    command: str
    from_status: str | None
    to_status: str
    job_id: str
    created_at: str


class OrdersPage(BaseModel):
    data: list[OrderOut]
    page: int
    limit: int
    total: int


class JobsPage(BaseModel):
    data: list[JobOut]
    page: int
    limit: int
    total: int


class EventsOut(BaseModel):
    data: list[EventOut]


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[EventName]
    description: str | None
    enabled: bool
    disabled_reason: str | None = Field(description="Why it was disabled (by its failures, or by the tenant)")
    failing_since: str | None = Field(description="Since when every delivery has failed; null after a success")
    previous_secret_expires_at: str | None = Field(description="Until when the old secret also signs (rotation)")
    created_at: str
    updated_at: str


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(description="Shown this once: keep it to verify signatures (Orderly-Signature)")


class WebhooksPage(BaseModel):
    data: list[WebhookOut]
    page: int
    limit: int
    total: int


class DeliveryOut(BaseModel):
    id: str
    event_id: str = Field(description="The same for every delivery of the event: deduplicate on it")
    event_type: EventName
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: str | None
    occurred_at: str
    created_at: str
    delivered_at: str | None
    resent_from: str | None
    payload: dict[str, Any]


class DeliveriesPage(BaseModel):
    data: list[DeliveryOut]
    page: int
    limit: int
    total: int


class JobFinishedData(BaseModel):
    job_id: str
    command: str
    order_id: str
    status: Annotated[JobStatus, WithJsonSchema({"type": "string", "enum": [s.value for s in FINISHED]})]
    error: JobError | None
    finished_at: str


class OrderStatusChangedData(BaseModel):
    order_id: str
    from_status: str | None = Field(description="null for the order's creation")
    to_status: str
    version: int
    job_id: str
    command: str


class JobFinishedEvent(BaseModel):
    """A webhook delivery's body (POSTed, signed in Orderly-Signature)."""

    id: str = Field(description="The event id: deliveries are at least once, deduplicate on it")
    type: Literal[EventType.JOB_FINISHED]
    created_at: str
    data: JobFinishedData


class OrderStatusChangedEvent(BaseModel):
    """A webhook delivery's body (POSTed, signed in Orderly-Signature)."""

    id: str = Field(description="The event id: deliveries are at least once, deduplicate on it")
    type: Literal[EventType.ORDER_STATUS_CHANGED]
    created_at: str
    data: OrderStatusChangedData


class FieldError(BaseModel):
    field: str
    message: str


class ProblemOut(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = Field(default=None, description="422 only: one entry per invalid field")
    job_status: Annotated[str, WithJsonSchema({"type": "string", "enum": NOT_CANCELLABLE})] | None = Field(
        default=None, description="409 on a cancel only: the job's status, too late to cancel"
    )
