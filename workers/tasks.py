"""Thin tasks: turn the message into a job id, call the use case, decide retry or fail.

The use cases count each outcome and wake the requests waiting on the job
(orders/finished.py); the task only chooses between retrying and failing."""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum

from celery import Task
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from infra.messaging import APPLY_TASK
from models import JobErrorCode
from orders import apply
from orders.unit_of_work import OrdersUnitOfWork
from telemetry.logs import job_log_context
from workers.celery_app import app
from workers.resources import clients, finished, order_cache

log = logging.getLogger(__name__)

# Database hiccups (restart, failover, lock timeout) are worth waiting out:
# exponential backoff with jitter, capped at a minute, for about ten minutes,
# then the job fails with a reason instead of retrying forever.
TRANSIENT_ERRORS = (DBAPIError, PoolTimeout)
MAX_RETRIES = 12
INTERNAL_ERROR_DETAIL = "the job could not be applied; the worker's log has the details under the job id"


class TaskResult(StrEnum):
    """What the task returns (results are not stored; Flower and the log show it)."""

    SUCCEEDED = apply.Result.SUCCEEDED.value
    FAILED = apply.Result.FAILED.value
    SKIPPED = apply.Result.SKIPPED.value
    REJECTED = "rejected"  # a message whose job id is not a UUID: dropped


@app.task(
    name=APPLY_TASK,
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=1,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
)
def apply_order_command(self: Task, job_id: str) -> TaskResult:
    try:
        job_uuid = uuid.UUID(job_id)
    except (TypeError, ValueError):
        log.error("message with an invalid job id %r dropped", job_id)
        return TaskResult.REJECTED
    with job_log_context(job_uuid):
        return _apply(self, job_uuid)


def _apply(self: Task, job_id: uuid.UUID) -> TaskResult:
    uow = OrdersUnitOfWork(clients().session_factory)
    try:
        outcome = apply.apply_job(uow, job_id, order_cache().invalidate, finished())
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= MAX_RETRIES:
            log.error("job %s: giving up after %d retries: %s", job_id, MAX_RETRIES, exc)
            return _fail_internally(uow, job_id, "database unavailable")
        raise
    except Exception:
        # A bug or a corrupt job: retrying would fail the same way. Fail the job
        # with a reason so the client's poll ends, and keep the traceback in the log.
        # The client sees no exception class or message: they describe the code.
        log.exception("job %s: unexpected error", job_id)
        return _fail_internally(uow, job_id, INTERNAL_ERROR_DETAIL)
    log.info("job %s: %s%s", job_id, outcome.result, f" ({outcome.error_code})" if outcome.error_code else "")
    return TaskResult(outcome.result)


def _fail_internally(uow: OrdersUnitOfWork, job_id: uuid.UUID, detail: str) -> TaskResult:
    apply.fail_job(uow, job_id, JobErrorCode.INTERNAL_ERROR, detail, finished())
    return TaskResult.FAILED
