"""What applying a batch of jobs writes, decided in Python before anything is
written (orders/apply.py runs it; orders/apply_sql.py writes it in one
statement).

Jobs are taken in the order their message listed them, so two commands on
one order in a batch apply one after the other: each checks the state
machine and If-Match against the order as the previous one left it, and
each gets its own event and version. A job that cannot be applied fails
alone, with its reason; the others go on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import SimpleNamespace
from typing import Any, cast

from models import Command, InvalidTransition, JobErrorCode, JobStatus, OrderStatus, next_status
from orders.views import JobFields, job_view
from webhooks import outbox


class Result(StrEnum):
    """What applying a job's message came to."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # already finished (cancelled included) or unknown: a redelivery


@dataclass(frozen=True)
class Outcome:
    job_id: uuid.UUID
    result: Result
    error_code: JobErrorCode | None = None
    command: str | None = None  # unknown when skipped
    accepted_at: datetime | None = None  # the job's created_at
    request_id: str | None = None  # of the request that accepted it: its log lines carry it
    # The finished job as GET /jobs/{id} shows it, for the requests waiting
    # on it (orders/waits.py); None when not known without a read.
    view: dict[str, Any] | None = None


@dataclass
class OrderState:
    """An order as the batch has left it so far."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    status: str
    version: int  # now
    read_version: int  # when the batch read (and locked) it: the compare-and-set's
    deleted: bool = False
    created: bool = False  # by this batch


@dataclass
class Plan:
    """Every write of one batch, and the outcome of each of its jobs."""

    now: datetime
    orders: dict[uuid.UUID, OrderState] = field(default_factory=dict)
    created: list[dict[str, Any]] = field(default_factory=list)  # new orders' rows
    order_events: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)  # each job's status and error
    events: list[outbox.Event] = field(default_factory=list)  # webhook events
    outcomes: list[Outcome] = field(default_factory=list)

    def changed_orders(self) -> list[OrderState]:
        """Orders that existed before the batch and changed in it (created ones are inserted)."""
        return [order for order in self.orders.values() if not order.created and order.version != order.read_version]

    def versions(self) -> list[tuple[uuid.UUID, int]]:
        """(order id, version committed) of every order the batch wrote: its cache tombstones."""
        return [(o.id, o.version) for o in self.orders.values() if o.created or o.version != o.read_version]

    def apply(self, job: Any) -> None:
        """Decide `job` (a started job row) against the orders as they stand."""
        try:
            if Command(job.command) is Command.CREATE:
                self._create(job)
            else:
                self._transition(job)
        except _Refused as refused:
            self._fail(job, refused.code, str(refused))

    def _create(self, job: Any) -> None:
        payload = job.payload or {}
        self.created.append(
            {
                "id": str(job.order_id),
                "tenant_id": str(job.tenant_id),
                "status": OrderStatus.PENDING,
                "currency": payload["currency"],
                "items": payload["items"],
                "total_cents": order_total_cents(payload["items"]),
                "customer_ref": payload.get("customer_ref"),
            }
        )
        order = OrderState(job.order_id, job.tenant_id, OrderStatus.PENDING, 1, 0, created=True)
        self.orders[job.order_id] = order
        self._applied(job, order, None)

    def _transition(self, job: Any) -> None:
        order = self.orders.get(job.order_id)
        if order is None or order.deleted or order.tenant_id != job.tenant_id:
            raise _Refused(JobErrorCode.NOT_FOUND, f"order {job.order_id} not found")
        if job.expected_version is not None and order.version != job.expected_version:
            raise _Refused(JobErrorCode.VERSION_CONFLICT, f"order changed after version {job.expected_version}")
        try:
            new_status = next_status(OrderStatus(order.status), Command(job.command))
        except InvalidTransition as exc:
            raise _Refused(JobErrorCode.INVALID_TRANSITION, str(exc)) from None
        from_status = order.status
        order.status, order.version = new_status, order.version + 1
        order.deleted = new_status is OrderStatus.DELETED
        self._applied(job, order, from_status)

    def _applied(self, job: Any, order: OrderState, from_status: str | None) -> None:
        self.order_events.append(
            {
                "order_id": str(order.id),
                "version": order.version,
                "command": str(job.command),
                "from_status": from_status,
                "to_status": str(order.status),
                "job_id": str(job.id),
            }
        )
        # The order's change first, then the job that made it: the stream
        # carries them in this order (stream/outbox_sql.py).
        self.events.append(
            outbox.status_changed(
                job.tenant_id, job.id, job.command, order.id, from_status, order.status, order.version
            )
        )
        view = self._finish(job, JobStatus.SUCCEEDED, None)
        self.outcomes.append(Outcome(job.id, Result.SUCCEEDED, None, job.command, job.created_at, job.request_id, view))

    def _fail(self, job: Any, code: JobErrorCode, detail: str) -> None:
        view = self._finish(job, JobStatus.FAILED, {"code": str(code), "detail": detail})
        self.outcomes.append(Outcome(job.id, Result.FAILED, code, job.command, job.created_at, job.request_id, view))

    def _finish(self, job: Any, status: JobStatus, error: dict[str, str] | None) -> dict[str, Any]:
        """Record the job's result; returns the job as it will read once committed."""
        self.results.append({"id": str(job.id), "status": str(status), "error": error})
        self.events.append(
            outbox.job_finished(job.tenant_id, job.id, job.command, job.order_id, status, error, self.now)
        )
        return finished_job_view(job, status, error, self.now)


class _Refused(Exception):
    """The command cannot be applied: the job fails with this code."""

    def __init__(self, code: JobErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def finished_job_view(job: Any, status: JobStatus, error: dict[str, str] | None, now: datetime) -> dict[str, Any]:
    """`job` (a started job row, with its attempts and started_at) as the
    batch's write leaves it: the same dict a read of it gives (orders/views.py)."""
    finished = SimpleNamespace(
        id=job.id, command=job.command, order_id=job.order_id, status=str(status), attempts=job.attempts,
        error=error, created_at=job.created_at, started_at=job.started_at, finished_at=now,
    )  # fmt: skip
    return job_view(cast(JobFields, finished))  # the view reads only these attributes


def order_total_cents(items: list[dict[str, Any]]) -> int:
    return sum(item["quantity"] * item["unit_price_cents"] for item in items)
