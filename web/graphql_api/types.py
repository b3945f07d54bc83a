"""The GraphQL types: built from the same JSON-ready views as the REST
answers (orders/views.py), so both show an order the same way."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, NewType

import strawberry
from strawberry.types import Info
from strawberry.types.scalar import ScalarDefinition

from models import Command, JobStatus, OrderStatus


def _long(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**63:
        raise ValueError(f"Long cannot represent {value!r}: a whole number below 2^63 is expected")
    return value


# Cents outgrow GraphQL's 32-bit Int (a unit price may be 10^10 cents).
Long = NewType("Long", int)
LONG = strawberry.scalar(
    name="Long", description="A 64-bit integer, sent as a JSON number", serialize=int, parse_value=_long
)
SCALARS: dict[object, ScalarDefinition] = {Long: LONG}  # the schema's scalar_map

OrderStatusEnum = strawberry.enum(OrderStatus, name="OrderStatus")
JobStatusEnum = strawberry.enum(JobStatus, name="JobStatus")
CommandEnum = strawberry.enum(Command, name="Command")


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@strawberry.type
class OrderItem:
    sku: str
    quantity: int
    unit_price_cents: Long


@strawberry.type
class OrderEvent:
    version: int
    command: CommandEnum  # type: ignore[valid-type]
    from_status: OrderStatusEnum | None  # type: ignore[valid-type]
    to_status: OrderStatusEnum  # type: ignore[valid-type]
    job_id: strawberry.ID
    created_at: datetime

    @classmethod
    def of(cls, view: dict[str, Any]) -> OrderEvent:
        return cls(
            version=view["version"],
            command=Command(view["command"]),
            from_status=OrderStatus(view["from_status"]) if view["from_status"] else None,
            to_status=OrderStatus(view["to_status"]),
            job_id=strawberry.ID(view["job_id"]),
            created_at=datetime.fromisoformat(view["created_at"]),
        )


@strawberry.type
class JobError:
    code: str
    detail: str


@strawberry.type
class Job:
    id: strawberry.ID
    command: CommandEnum  # type: ignore[valid-type]
    order_id: strawberry.ID
    status: JobStatusEnum  # type: ignore[valid-type]
    attempts: int
    error: JobError | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, view: dict[str, Any]) -> Job:
        error = view["error"]
        return cls(
            id=strawberry.ID(view["id"]),
            command=Command(view["command"]),
            order_id=strawberry.ID(view["order_id"]),
            status=JobStatus(view["status"]),
            attempts=view["attempts"],
            error=JobError(code=error.get("code", ""), detail=error.get("detail", "")) if error else None,
            created_at=datetime.fromisoformat(view["created_at"]),
            started_at=_time(view["started_at"]),
            finished_at=_time(view["finished_at"]),
        )


@strawberry.type
class Order:
    id: strawberry.ID
    status: OrderStatusEnum  # type: ignore[valid-type]
    version: int = strawberry.field(description="Bumped by every applied command; ifMatch names it")
    currency: str
    items: list[OrderItem]
    total_cents: Long
    customer_ref: str | None
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="Its events in version order (at most 100)")
    def events(self, info: Info) -> list[OrderEvent]:
        return [OrderEvent.of(v) for v in info.context.loaders.events(str(self.id))]

    @strawberry.field(description="Its newest jobs, oldest first (at most 100)")
    def jobs(self, info: Info) -> list[Job]:
        return [Job.of(v) for v in info.context.loaders.jobs(str(self.id))]

    @classmethod
    def of(cls, view: dict[str, Any]) -> Order:
        return cls(
            id=strawberry.ID(view["id"]),
            status=OrderStatus(view["status"]),
            version=view["version"],
            currency=view["currency"],
            items=[OrderItem(**item) for item in view["items"]],
            total_cents=view["total_cents"],
            customer_ref=view["customer_ref"],
            created_at=datetime.fromisoformat(view["created_at"]),
            updated_at=datetime.fromisoformat(view["updated_at"]),
        )


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo


@strawberry.enum
class OrderSort(Enum):
    """As REST's ?sort= (the id breaks ties)."""

    CREATED_AT_ASC = "created_at"
    CREATED_AT_DESC = "-created_at"
    UPDATED_AT_ASC = "updated_at"
    UPDATED_AT_DESC = "-updated_at"
    TOTAL_CENTS_ASC = "total_cents"
    TOTAL_CENTS_DESC = "-total_cents"


@strawberry.enum
class OrderCommand(Enum):
    """The commands on an existing order (a new one is createOrder)."""

    PAY = Command.PAY.value
    SHIP = Command.SHIP.value
    DELIVER = Command.DELIVER.value
    CANCEL = Command.CANCEL.value
    DELETE = Command.DELETE.value


@strawberry.input
class OrderFilter:
    status: OrderStatusEnum | None = None  # type: ignore[valid-type]


@strawberry.input
class OrderItemInput:
    sku: str
    quantity: int
    unit_price_cents: Long


@strawberry.input
class CreateOrderInput:
    currency: str
    items: list[OrderItemInput]
    customer_ref: str | None = None
