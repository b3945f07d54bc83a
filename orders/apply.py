"""Applying a job: the worker's side of the pipeline.

One transaction changes the order (compare-and-set on its version), records
the event, finishes the job and writes its webhook deliveries. Applying a
job twice is impossible: the job row is locked and re-checked first, and
`order_events.job_id` is unique in the database.

The cache entry is replaced by a tombstone carrying the new version *before*
that transaction commits: from then on no reader can put an older version
back, and a worker killed right after the commit leaves nothing stale behind.
If Redis cannot take the tombstone, the transaction records a pending
invalidation instead, which the relay retries (orders/relay.py).

After the commit, whoever waits on the job is woken and the outcome counted
(orders/finished.py): by these use cases, once, whatever their caller.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row

from infra.faults import fault_point
from models import Command, InvalidTransition, JobErrorCode, JobStatus, OrderStatus, next_status
from models.base import utcnow
from orders.finished import Finished
from orders.unit_of_work import OrdersUnitOfWork
from telemetry import metrics
from telemetry.logs import request_id_var
from webhooks import outbox

log = logging.getLogger(__name__)

# Returns False when the cache could not be reached.
Invalidate = Callable[[uuid.UUID, int], bool]

MAX_CONFLICT_RETRIES = 10


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


class _Failure(Exception):
    """The command cannot be applied: the job fails with this code."""

    def __init__(self, code: JobErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.error = {"code": str(code), "detail": detail}


class _VersionConflict(Exception):
    """Another writer changed the order between our read and our write."""


def apply_job(
    uow: OrdersUnitOfWork,
    job_id: uuid.UUID,
    invalidate: Invalidate,
    finished: Finished,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Apply one job exactly once; safe to call again for the same job.

    One transaction per attempt: start (lock) the job, read the order, write
    the change with its event, the job's result and its deliveries, commit.
    A job is never seen being applied by others: it goes from queued to its
    outcome at the commit.
    """
    for attempt in range(1, MAX_CONFLICT_RETRIES + 1):
        with uow:
            job = uow.apply.start_job(job_id)
            if job is None:
                finished.skipped()
                return Outcome(job_id, Result.SKIPPED)
            request_id_var.set(job.request_id)  # the caller's job_log_context resets it
            now = utcnow()
            try:
                new_version = _apply(uow, job, now)
            except _Failure as failure:
                return _fail(uow, job, failure, now, finished)
            except _VersionConflict:
                metrics.LOCK_CONFLICTS.inc()
                if job.expected_version is not None:
                    detail = f"order changed after version {job.expected_version}"
                    return _fail(uow, job, _Failure(JobErrorCode.VERSION_CONFLICT, detail), now, finished)
                uow.rollback()
                log.info("job %s: order %s changed concurrently, retry %d", job_id, job.order_id, attempt)
                # Full jitter, capped: competing workers spread out instead of colliding again.
                sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
                continue
            if invalidate(job.order_id, new_version):
                metrics.CACHE_INVALIDATIONS.labels("ok").inc()
            else:
                uow.apply.record_pending_invalidation(job.order_id, new_version)
                metrics.CACHE_INVALIDATIONS.labels("pending").inc()
            fault_point("apply.before_commit")
            uow.commit()
        finished.finished(job.id, job.command, JobStatus.SUCCEEDED, None, job.created_at)
        return Outcome(job_id, Result.SUCCEEDED, None, job.command, job.created_at)

    detail = f"order kept changing: gave up after {MAX_CONFLICT_RETRIES} attempts"
    fail_job(uow, job_id, JobErrorCode.VERSION_CONFLICT, detail, finished)
    return Outcome(job_id, Result.FAILED, JobErrorCode.VERSION_CONFLICT)


def fail_job(uow: OrdersUnitOfWork, job_id: uuid.UUID, code: JobErrorCode, detail: str, finished: Finished) -> bool:
    """Give up on an unfinished job with a reason (after the last retry, or a
    bug); False when it had finished meanwhile (nothing changes then)."""
    with uow:
        job = uow.apply.unfinished_job(job_id)
        if job is None:
            return False
        _fail(uow, job, _Failure(code, detail), utcnow(), finished)
    return True


def _fail(uow: OrdersUnitOfWork, job: Row[Any], failure: _Failure, now: datetime, finished: Finished) -> Outcome:
    """Fail the job in this transaction with its job.finished event, commit, tell."""
    event = outbox.job_finished(job.tenant_id, job.id, job.command, job.order_id, JobStatus.FAILED, failure.error, now)
    if not uow.apply.fail_job(job.id, failure.error, now, [event]):
        return Outcome(job.id, Result.SKIPPED)  # finished by someone else since it was read
    uow.commit()
    finished.finished(job.id, job.command, JobStatus.FAILED, failure.code, job.created_at)
    return Outcome(job.id, Result.FAILED, failure.code, job.command, job.created_at)


def _apply(uow: OrdersUnitOfWork, job: Row[Any], now: datetime) -> int:
    """Apply `job` in the caller's transaction, finishing it; return the order's new version."""
    command = Command(job.command)
    if command is Command.CREATE:
        created = _events(job, None, OrderStatus.PENDING, 1, now)
        return uow.apply.create_order(job, order_total_cents((job.payload or {})["items"]), now, created)

    order = uow.apply.live_order(job.tenant_id, job.order_id)
    if order is None:
        raise _Failure(JobErrorCode.NOT_FOUND, f"order {job.order_id} not found")
    if job.expected_version is not None and order.version != job.expected_version:
        raise _VersionConflict()
    try:
        new_status = next_status(OrderStatus(order.status), command)
    except InvalidTransition as exc:
        raise _Failure(JobErrorCode.INVALID_TRANSITION, str(exc)) from None
    events = _events(job, order.status, new_status, order.version + 1, now)
    new_version = uow.apply.transition(job, order, new_status, now, events)
    if new_version is None:
        raise _VersionConflict()
    return new_version


def _events(
    job: Row[Any], from_status: str | None, to_status: OrderStatus, version: int, now: datetime
) -> list[outbox.Event]:
    """An applied command's webhook events: the job finished, the order changed."""
    return [
        outbox.job_finished(job.tenant_id, job.id, job.command, job.order_id, JobStatus.SUCCEEDED, None, now),
        outbox.status_changed(job.tenant_id, job.id, job.command, job.order_id, from_status, to_status, version),
    ]


def order_total_cents(items: list[dict[str, Any]]) -> int:
    return sum(item["quantity"] * item["unit_price_cents"] for item in items)
