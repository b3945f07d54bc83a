"""Applying jobs: the worker's side of the pipeline.

A message carries one or more jobs; they are applied together, in one
transaction: lock the jobs still queued and their orders (in id order, so
batches never deadlock), decide each job in Python (orders/apply_plan.py:
the state machine, If-Match, one command after the other on the same
order), write every change in one statement (the compare-and-set of each
order on the version read, the events, the jobs' results, the webhook
deliveries), commit. Applying a job twice is impossible: a job is locked
and re-checked before it is applied, and `order_events.job_id` is unique.

Before that commit every changed order's cache entry is replaced by a
tombstone carrying its new version (one Redis round trip for the batch): no
reader can put an older version back, and a worker killed right after the
commit leaves nothing stale. A tombstone Redis cannot take becomes a pending
invalidation in the same transaction, which the relay retries.

After the commit, the outcomes are counted and the requests waiting on the
jobs woken (orders/finished.py), once, by these use cases.

A job that cannot be applied (an invalid transition, a gone order, If-Match
no longer holding) fails alone. A job that breaks the batch (a bug, a corrupt
job) makes the batch go again one job at a time, so that it alone fails
with `internal_error`. Database errors are the caller's to retry.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from infra.faults import fault_point
from models import Command, JobErrorCode, JobStatus
from models.base import utcnow
from orders.apply_plan import OrderState, Outcome, Plan, Result
from orders.finished import Finished
from orders.unit_of_work import OrdersUnitOfWork
from telemetry import metrics
from telemetry.logs import log_context
from webhooks import outbox

log = logging.getLogger(__name__)

# Tombstones for (order id, committed version) pairs; True for each Redis took.
Invalidate = Callable[[list[tuple[uuid.UUID, int]]], list[bool]]

# Worth retrying (a restart, a failover, a lock timeout): the caller does.
TRANSIENT_ERRORS = (DBAPIError, PoolTimeout)
MAX_CONFLICT_RETRIES = 10
INTERNAL_ERROR_DETAIL = "the job could not be applied; the worker's log has the details under the job id"


def apply_jobs(
    uow: OrdersUnitOfWork,
    job_ids: list[uuid.UUID],
    invalidate: Invalidate,
    finished: Finished,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Apply the jobs of one message, each exactly once; safe to call again
    with the same jobs (finished ones are skipped)."""
    try:
        return _apply_together(uow, job_ids, invalidate, finished, sleep)
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        if len(job_ids) == 1:
            with log_context(job_id=job_ids[0]):
                log.exception("job %s: unexpected error", job_ids[0])
            # A bug or a corrupt job: retrying would fail the same way. The
            # client sees no exception class or message: they describe the code.
            fail_job(uow, job_ids[0], JobErrorCode.INTERNAL_ERROR, INTERNAL_ERROR_DETAIL, finished)
            return [Outcome(job_ids[0], Result.FAILED, JobErrorCode.INTERNAL_ERROR)]
        log.warning("a batch of %d jobs failed unexpectedly; applying them one by one", len(job_ids), exc_info=True)
        metrics.BATCHES_SPLIT.inc()
        return [outcome for job_id in job_ids for outcome in apply_jobs(uow, [job_id], invalidate, finished, sleep)]


def apply_job(
    uow: OrdersUnitOfWork,
    job_id: uuid.UUID,
    invalidate: Invalidate,
    finished: Finished,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """One job: a batch of one."""
    (outcome,) = apply_jobs(uow, [job_id], invalidate, finished, sleep)
    return outcome


def _apply_together(
    uow: OrdersUnitOfWork,
    job_ids: list[uuid.UUID],
    invalidate: Invalidate,
    finished: Finished,
    sleep: Callable[[float], None],
) -> list[Outcome]:
    for attempt in range(1, MAX_CONFLICT_RETRIES + 1):
        with uow:
            jobs = uow.apply.start_jobs(job_ids)
            position = {job_id: index for index, job_id in enumerate(job_ids)}
            jobs.sort(key=lambda job: position[job.id])  # as the message listed them
            plan = Plan(utcnow())
            metrics.JOBS_PER_TRANSACTION.observe(len(jobs))
            commands = sorted({job.order_id for job in jobs if job.command != Command.CREATE})
            for row in uow.apply.lock_orders(commands):
                plan.orders[row.id] = OrderState(
                    row.id, row.tenant_id, row.status, row.version, row.version, deleted=row.deleted_at is not None
                )
            for job in jobs:
                plan.apply(job)
            if jobs and not uow.apply.write(plan):
                # Cannot happen while the orders are locked; never leave half a batch.
                uow.rollback()
                metrics.LOCK_CONFLICTS.inc()
                log.warning("a compare-and-set matched no row: batch of %d retried (%d)", len(jobs), attempt)
                sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
                continue
            _tombstones(uow, plan, invalidate)
            fault_point("apply.before_commit")
            uow.commit()
        fault_point("apply.after_commit")
        started = {job.id for job in jobs}
        skipped = [Outcome(job_id, Result.SKIPPED) for job_id in job_ids if job_id not in started]
        finished.finished_many(plan.outcomes)
        finished.skipped(len(skipped))
        return plan.outcomes + skipped
    detail = f"order kept changing: gave up after {MAX_CONFLICT_RETRIES} attempts"
    for job_id in job_ids:
        fail_job(uow, job_id, JobErrorCode.VERSION_CONFLICT, detail, finished)
    return [Outcome(job_id, Result.FAILED, JobErrorCode.VERSION_CONFLICT) for job_id in job_ids]


def _tombstones(uow: OrdersUnitOfWork, plan: Plan, invalidate: Invalidate) -> None:
    """Before the commit: a tombstone per changed order, or a pending invalidation."""
    versions = plan.versions()
    if not versions:
        return
    taken = invalidate(versions)
    missed = [pair for pair, ok in zip(versions, taken, strict=True) if not ok]
    metrics.CACHE_INVALIDATIONS.labels("ok").inc(len(versions) - len(missed))
    if missed:
        uow.apply.record_pending_invalidations(missed)
        metrics.CACHE_INVALIDATIONS.labels("pending").inc(len(missed))


def fail_job(uow: OrdersUnitOfWork, job_id: uuid.UUID, code: JobErrorCode, detail: str, finished: Finished) -> bool:
    """Give up on an unfinished job with a reason (after the last retry, or a
    bug); False when it had finished meanwhile (nothing changes then)."""
    with uow:
        job: Any = uow.apply.unfinished_job(job_id)
        if job is None:
            return False
        now = utcnow()
        error = {"code": str(code), "detail": detail}
        event = outbox.job_finished(job.tenant_id, job.id, job.command, job.order_id, JobStatus.FAILED, error, now)
        if not uow.apply.fail_job(job.id, error, now, [event]):
            return False
        uow.commit()
    finished.finished_many([Outcome(job.id, Result.FAILED, code, job.command, job.created_at, job.request_id)])
    return True
