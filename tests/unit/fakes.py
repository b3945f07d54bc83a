"""An in-memory stand-in for the orders unit of work, so the use cases
(orders/accept.py, apply.py, cancel.py) run in microseconds without servers.

It keeps the two properties the use cases rely on: a transaction sees its
own writes and nothing is kept unless it commits (each `with` works on a
copy of the state, which `commit()` makes the state); and each store
method has the real one's meaning (tests/unit/test_fakes.py holds their
signatures against orders/*_sql.py). Rows are plain namespaces with the
columns' names, as the SQL stores return Core rows.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from models import JobStatus
from models.base import utcnow
from orders.apply_plan import Plan
from webhooks.outbox import Event


@dataclass
class State:
    jobs: dict[uuid.UUID, SimpleNamespace] = field(default_factory=dict)
    orders: dict[uuid.UUID, SimpleNamespace] = field(default_factory=dict)
    order_events: list[SimpleNamespace] = field(default_factory=list)
    keys: dict[tuple[uuid.UUID, str], SimpleNamespace] = field(default_factory=dict)
    outbox: list[Event] = field(default_factory=list)  # the events whose deliveries were written
    pending_invalidations: dict[uuid.UUID, int] = field(default_factory=dict)


class FakeUnitOfWork:
    """`accept`, `apply` and `cancel` are one store over the transaction's copy of `state`."""

    def __init__(self, state: State | None = None) -> None:
        self.state = state or State()
        self.commits = 0
        # Runs before a batch's write: a test's concurrent writer.
        self.before_write: Callable[[State], None] | None = None

    def __enter__(self) -> FakeUnitOfWork:
        self.working = copy.deepcopy(self.state)
        self.accept = self.apply = self.cancel = self.queries = FakeStore(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.working = copy.deepcopy(self.state)  # whatever was not committed is gone

    def commit(self) -> None:
        self.state = copy.deepcopy(self.working)
        self.commits += 1

    def rollback(self) -> None:
        self.working = copy.deepcopy(self.state)


class FakeStore:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _db(self) -> State:
        return self._uow.working

    # ------------------------------------------------------------ accept
    def insert_job(self, job: Any, key: str | None = None, request_sha256: str | None = None) -> bool:
        if key is not None and (job.tenant_id, key) in self._db.keys:
            return False
        if job.payload is None:
            version = self.live_order_version(job.tenant_id, job.order_id)
            if version is None or (job.expected_version is not None and version != job.expected_version):
                return False
        self._db.jobs[job.id] = SimpleNamespace(
            id=job.id, tenant_id=job.tenant_id, command=job.command, order_id=job.order_id, payload=job.payload,
            expected_version=job.expected_version, status=JobStatus.QUEUED, attempts=0, error=None,
            created_at=job.created_at, started_at=None, finished_at=None, request_id=job.request_id,
        )  # fmt: skip
        if key is not None:
            self._db.keys[(job.tenant_id, key)] = SimpleNamespace(request_sha256=request_sha256, job_id=job.id)
        return True

    def claimed_key(self, tenant_id: uuid.UUID, key: str) -> SimpleNamespace | None:
        return self._db.keys.get((tenant_id, key))

    def job(self, tenant_id: uuid.UUID, job_id: uuid.UUID) -> SimpleNamespace | None:
        job = self._db.jobs.get(job_id)
        return copy.copy(job) if job is not None and job.tenant_id == tenant_id else None

    def live_order_version(self, tenant_id: uuid.UUID, order_id: uuid.UUID) -> int | None:
        order = self.live_order(tenant_id, order_id)
        return None if order is None else order.version

    def count_unfinished(self, tenant_id: uuid.UUID) -> int:
        return sum(job.tenant_id == tenant_id and job.status == JobStatus.QUEUED for job in self._db.jobs.values())

    # ------------------------------------------------------------ apply
    def start_jobs(self, job_ids: list[uuid.UUID]) -> list[SimpleNamespace]:
        started = []
        for job_id in sorted(job_ids):
            job = self._db.jobs.get(job_id)
            if job is not None and job.status == JobStatus.QUEUED:
                job.attempts += 1
                job.started_at = job.started_at or utcnow()
                started.append(copy.copy(job))
        return started

    def lock_orders(self, order_ids: list[uuid.UUID]) -> list[SimpleNamespace]:
        return [copy.copy(self._db.orders[order_id]) for order_id in sorted(order_ids) if order_id in self._db.orders]

    def write(self, plan: Plan) -> bool:
        if self._uow.before_write is not None:
            self._uow.before_write(self._db)
        changed = plan.changed_orders()
        if any(self._db.orders[o.id].version != o.read_version for o in changed):
            return False  # a compare-and-set matched no row (the caller rolls back)
        for row in plan.created:
            self._db.orders[uuid.UUID(row["id"])] = SimpleNamespace(
                **{**row, "id": uuid.UUID(row["id"]), "tenant_id": uuid.UUID(row["tenant_id"])}, version=1,
                created_at=plan.now, updated_at=plan.now, deleted_at=None,
            )  # fmt: skip
        for order in changed:
            stored = self._db.orders[order.id]
            stored.status, stored.version, stored.updated_at = order.status, order.version, plan.now
            if order.deleted:
                stored.deleted_at = plan.now
        self._db.order_events += [SimpleNamespace(**event) for event in plan.order_events]
        for result in plan.results:
            job = self._db.jobs[uuid.UUID(result["id"])]
            job.status, job.error, job.finished_at = result["status"], result["error"], plan.now
        self._db.outbox.extend(plan.events)
        return True

    def unfinished_job(self, job_id: uuid.UUID) -> SimpleNamespace | None:
        job = self._db.jobs.get(job_id)
        return copy.copy(job) if job is not None and job.status == JobStatus.QUEUED else None

    def live_order(self, tenant_id: uuid.UUID, order_id: uuid.UUID) -> SimpleNamespace | None:
        order = self._db.orders.get(order_id)
        if order is None or order.tenant_id != tenant_id or order.deleted_at is not None:
            return None
        return copy.copy(order)

    def fail_job(self, job_id: uuid.UUID, error: dict[str, str], now: datetime, events: list[Event]) -> bool:
        job = self._db.jobs[job_id]
        if job.status != JobStatus.QUEUED:
            return False
        job.status, job.error, job.finished_at = JobStatus.FAILED, error, now
        self._db.outbox.extend(events)
        return True

    def record_pending_invalidations(self, versions: list[tuple[uuid.UUID, int]]) -> None:
        for order_id, version in versions:
            self._db.pending_invalidations[order_id] = max(version, self._db.pending_invalidations.get(order_id, 0))

    # ------------------------------------------------------------ cancel
    def wait_for_locks_at_most(self, milliseconds: int) -> None:
        pass

    def cancel_queued(
        self, tenant_id: uuid.UUID, job_id: uuid.UUID, now: datetime, events: list[Event]
    ) -> SimpleNamespace | None:
        job = self._db.jobs.get(job_id)
        if job is None or job.tenant_id != tenant_id or job.status != JobStatus.QUEUED:
            return None
        job.status, job.finished_at = JobStatus.CANCELLED, now
        self._db.outbox.extend(events)
        return copy.copy(job)


class Recorder:
    """Stands in for orders/finished.py's Finished: remembers what it was told, in order."""

    def __init__(self) -> None:
        self.told: list[tuple[Any, ...]] = []

    def finished_many(self, outcomes: list[Any]) -> None:
        for o in outcomes:
            self.told.append(("finished", o.job_id, str(o.result), None if o.error_code is None else str(o.error_code)))

    def cancelled(self, job_id: uuid.UUID, command: str, view: dict[str, Any] | None = None) -> None:
        self.told.append(("cancelled", job_id))

    def skipped(self, count: int = 1) -> None:
        self.told += [("skipped",)] * count


def taken(versions: list[tuple[uuid.UUID, int]]) -> list[bool]:
    """An invalidate whose every tombstone Redis took."""
    return [True] * len(versions)
