"""Applying a job: the worker's side of the pipeline.

One transaction changes the order (compare-and-set on its version), records the
event and finishes the job. Applying a job twice is impossible: the job row is
locked and re-checked first, and `order_events.job_id` is unique in the database.

The cache entry is replaced by a tombstone carrying the new version *before*
that transaction commits: from then on no reader can put an older version back,
and a worker killed right after the commit leaves nothing stale behind. If Redis
cannot take the tombstone, the transaction records a pending invalidation
instead, which the relay retries (orders/relay.py).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session, sessionmaker

from infra.faults import fault_point
from infra.unit_of_work import UnitOfWork
from models import Command, InvalidTransition, OrderStatus, next_status
from orders import apply_sql
from orders import repository as repo
from telemetry import metrics
from telemetry.logs import request_id_var

log = logging.getLogger(__name__)

# Returns False when the cache could not be reached.
Invalidate = Callable[[uuid.UUID, int], bool]

MAX_CONFLICT_RETRIES = 10


@dataclass(frozen=True)
class Outcome:
    job_id: uuid.UUID
    status: str  # succeeded | failed | skipped (already finished or unknown)
    error_code: str | None = None
    command: str | None = None  # unknown when skipped
    accepted_at: datetime | None = None  # the job's created_at


class _Failure(Exception):
    """The command cannot be applied: the job fails with this code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.error = {"code": code, "detail": detail}


class _VersionConflict(Exception):
    """Another writer changed the order between our read and our write."""


def apply_job(
    session_factory: sessionmaker[Session],
    job_id: uuid.UUID,
    invalidate: Invalidate,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Apply one job exactly once; safe to call again for the same job.

    One transaction per attempt: start (lock) the job, read the order, write
    the change with its event and the job's result, commit. A job is never
    seen `running` by others: it goes from queued to its outcome at the commit.
    """
    for attempt in range(1, MAX_CONFLICT_RETRIES + 1):
        with UnitOfWork(session_factory) as uow:
            job = apply_sql.start_job(uow.session, job_id)
            if job is None:
                return Outcome(job_id, "skipped")
            request_id_var.set(job.request_id)  # the caller's job_log_context resets it
            try:
                new_version = _apply(uow.session, job)
            except _Failure as failure:
                apply_sql.fail_job(uow.session, job.id, failure.error)
                uow.commit()
                return Outcome(job_id, "failed", failure.error["code"], job.command, job.created_at)
            except _VersionConflict:
                metrics.LOCK_CONFLICTS.inc()
                if job.expected_version is not None:
                    error = {
                        "code": "version_conflict",
                        "detail": f"order changed after version {job.expected_version}",
                    }
                    apply_sql.fail_job(uow.session, job.id, error)
                    uow.commit()
                    return Outcome(job_id, "failed", "version_conflict", job.command, job.created_at)
                uow.session.rollback()
                log.info("job %s: order %s changed concurrently, retry %d", job_id, job.order_id, attempt)
                # Full jitter, capped: competing workers spread out instead of colliding again.
                sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
                continue
            if invalidate(job.order_id, new_version):
                metrics.CACHE_INVALIDATIONS.labels("ok").inc()
            else:
                repo.record_pending_invalidation(uow.session, job.order_id, new_version)
                metrics.CACHE_INVALIDATIONS.labels("pending").inc()
            fault_point("apply.before_commit")
            uow.commit()
            return Outcome(job_id, "succeeded", None, job.command, job.created_at)

    detail = f"order kept changing: gave up after {MAX_CONFLICT_RETRIES} attempts"
    fail_job(session_factory, job_id, "version_conflict", detail)
    return Outcome(job_id, "failed", "version_conflict")


def fail_job(session_factory: sessionmaker[Session], job_id: uuid.UUID, code: str, detail: str) -> None:
    """Give up on an unfinished job with a reason (used after the last retry)."""
    with UnitOfWork(session_factory) as uow:
        apply_sql.fail_job(uow.session, job_id, {"code": code, "detail": detail})
        uow.commit()


def _apply(session: Session, job: Row[Any]) -> int:
    """Apply `job` in the caller's transaction, finishing it; return the order's new version."""
    command = Command(job.command)
    if command is Command.CREATE:
        return apply_sql.apply_create(session, job, order_total_cents((job.payload or {})["items"]))

    order = repo.get_live_order(session, job.tenant_id, job.order_id)
    if order is None:
        raise _Failure("not_found", f"order {job.order_id} not found")
    if job.expected_version is not None and order.version != job.expected_version:
        raise _VersionConflict()
    try:
        new_status = next_status(OrderStatus(order.status), command)
    except InvalidTransition as exc:
        raise _Failure("invalid_transition", str(exc)) from None
    new_version = apply_sql.apply_transition(session, job, order, new_status)
    if new_version is None:
        raise _VersionConflict()
    return new_version


def order_total_cents(items: list[dict[str, Any]]) -> int:
    return sum(item["quantity"] * item["unit_price_cents"] for item in items)
