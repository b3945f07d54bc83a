"""Thin tasks: turn the message into job ids, call the use case, decide retry or fail.

The use case counts each outcome and wakes the requests waiting on the jobs
(orders/finished.py), and fails a job that breaks (orders/apply.py); the
task only retries database errors, and gives up on them in the end."""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum

from celery import Task

from infra.messaging import APPLY_JOBS_TASK, APPLY_TASK
from models import JobErrorCode
from orders import apply
from orders.unit_of_work import OrdersUnitOfWork
from telemetry.logs import log_context
from workers.celery_app import app
from workers.resources import clients, finished, order_cache

log = logging.getLogger(__name__)

# Database hiccups (restart, failover, lock timeout) are worth waiting out:
# exponential backoff with jitter, capped at a minute, for about ten minutes,
# then the jobs fail with a reason instead of retrying forever.
MAX_RETRIES = 12
RETRYING = {
    "bind": True,
    "autoretry_for": apply.TRANSIENT_ERRORS,
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": MAX_RETRIES,
    # One task event per batch (a message, or messages merged), when it ends (workers/task_events.py).
    "send_events": False,
    "Request": "workers.task_events:OneEventRequest",
    # Messages waiting while every pool process is busy go as one (workers/merging.py).
    "Strategy": "workers.merging:merging",
}


class TaskResult(StrEnum):
    """What the task returns (results are not stored; Flower and the log show it)."""

    SUCCEEDED = apply.Result.SUCCEEDED.value
    FAILED = apply.Result.FAILED.value
    SKIPPED = apply.Result.SKIPPED.value
    REJECTED = "rejected"  # a message whose job ids are not UUIDs: dropped


@app.task(name=APPLY_JOBS_TASK, **RETRYING)
def apply_jobs(self: Task, job_ids: list[str]) -> dict[str, int]:
    """The jobs of one message, applied together: how many came to each result."""
    return _run(self, job_ids)


@app.task(name=APPLY_TASK, **RETRYING)
def apply_order_command(self: Task, job_id: str) -> dict[str, int]:
    """A message of one job, as versions before batching published them."""
    return _run(self, [job_id])


def _run(self: Task, job_ids: list[str]) -> dict[str, int]:
    try:
        ids = [uuid.UUID(job_id) for job_id in job_ids]
    except (TypeError, ValueError, AttributeError):
        log.error("message with invalid job ids %r dropped", job_ids)
        return {TaskResult.REJECTED: 1}
    counts: dict[str, int] = {}
    for outcome in _apply(self, ids):
        with log_context(request_id=outcome.request_id, job_id=outcome.job_id):
            log.info("job %s: %s%s", outcome.job_id, outcome.result,
                     f" ({outcome.error_code})" if outcome.error_code else "")  # fmt: skip
        counts[outcome.result] = counts.get(outcome.result, 0) + 1
    return counts


def _apply(self: Task, job_ids: list[uuid.UUID]) -> list[apply.Outcome]:
    uow = OrdersUnitOfWork(clients().session_factory)
    try:
        return apply.apply_jobs(uow, job_ids, order_cache().invalidate_many, finished())
    except apply.TRANSIENT_ERRORS as exc:
        if self.request.retries < MAX_RETRIES:
            raise
        log.error("giving up on %d jobs after %d retries: %s", len(job_ids), MAX_RETRIES, exc)
        for job_id in job_ids:
            with log_context(job_id=job_id):
                apply.fail_job(uow, job_id, JobErrorCode.INTERNAL_ERROR, "database unavailable", finished())
        return [apply.Outcome(job_id, apply.Result.FAILED, JobErrorCode.INTERNAL_ERROR) for job_id in job_ids]
