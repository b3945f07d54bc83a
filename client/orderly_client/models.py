"""Typed views of the API's answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FINISHED = frozenset({"succeeded", "failed", "cancelled"})


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class JobError:
    code: str
    detail: str


@dataclass(frozen=True)
class Job:
    id: str
    command: str
    order_id: str
    status: str  # queued | running | succeeded | failed | cancelled
    attempts: int
    error: JobError | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        error = data.get("error")
        return cls(
            id=data["id"],
            command=data["command"],
            order_id=data["order_id"],
            status=data["status"],
            attempts=data["attempts"],
            error=JobError(error["code"], error["detail"]) if error else None,
            created_at=_time(data["created_at"]),  # type: ignore[arg-type]  # always set
            started_at=_time(data.get("started_at")),
            finished_at=_time(data.get("finished_at")),
        )


@dataclass(frozen=True)
class Item:
    sku: str
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class Order:
    id: str
    status: str
    version: int
    currency: str
    items: list[Item]
    total_cents: int
    customer_ref: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Order:
        return cls(
            id=data["id"],
            status=data["status"],
            version=data["version"],
            currency=data["currency"],
            items=[Item(i["sku"], i["quantity"], i["unit_price_cents"]) for i in data["items"]],
            total_cents=data["total_cents"],
            customer_ref=data.get("customer_ref"),
            created_at=_time(data["created_at"]),  # type: ignore[arg-type]
            updated_at=_time(data["updated_at"]),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Page:
    data: list[Order]
    page: int
    limit: int
    total: int


@dataclass
class Problem:
    """An RFC 9457 problem document, as the API sent it."""

    status: int
    type: str
    title: str
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)
