"""Thin tasks: turn the message into a job id, call the service, decide retry or fail."""

from __future__ import annotations

import logging
import uuid

import kombu.exceptions
from amqp.exceptions import MessageNacked
from celery import Task
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from infra.errors import QueueFull
from infra.messaging import JobMessage
from models.base import utcnow
from orders import apply
from telemetry import metrics
from telemetry.logs import job_log_context
from workers.celery_app import app
from workers.resources import job_announcer, order_cache, session_factory

log = logging.getLogger(__name__)

# Database hiccups (restart, failover, lock timeout) are worth waiting out:
# exponential backoff with jitter, capped at a minute, for about ten minutes,
# then the job fails with a reason instead of retrying forever.
TRANSIENT_ERRORS = (DBAPIError, PoolTimeout)
MAX_RETRIES = 12
INTERNAL_ERROR_DETAIL = "the job could not be applied; the worker's log has the details under the job id"


@app.task(
    name="orderly.apply_order_command",
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=1,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=MAX_RETRIES,
)
def apply_order_command(self: Task, job_id: str) -> str:
    try:
        job_uuid = uuid.UUID(job_id)
    except (TypeError, ValueError):
        log.error("message with an invalid job id %r dropped", job_id)
        return "rejected"
    with job_log_context(job_uuid):
        return _apply(self, job_id, job_uuid)


def _apply(self: Task, job_id: str, job_uuid: uuid.UUID) -> str:
    try:
        outcome = apply.apply_job(session_factory(), job_uuid, order_cache().invalidate)
    except TRANSIENT_ERRORS as exc:
        if self.request.retries >= MAX_RETRIES:
            log.error("job %s: giving up after %d retries: %s", job_id, MAX_RETRIES, exc)
            return _fail_internally(job_uuid, "database unavailable")
        raise
    except Exception:
        # A bug or a corrupt job: retrying would fail the same way. Fail the job
        # with a reason so the client's poll ends, and keep the traceback in the log.
        # The client sees no exception class or message: they describe the code.
        log.exception("job %s: unexpected error", job_id)
        return _fail_internally(job_uuid, INTERNAL_ERROR_DETAIL)
    log.info("job %s: %s%s", job_id, outcome.status, f" ({outcome.error_code})" if outcome.error_code else "")
    _count(outcome)
    if outcome.status != "skipped":
        job_announcer()(job_uuid)  # after the commit: wake requests waiting on it
    return outcome.status


def _fail_internally(job_uuid: uuid.UUID, detail: str) -> str:
    """Fail the job with internal_error, count it, wake its waiters."""
    apply.fail_job(session_factory(), job_uuid, "internal_error", detail)
    metrics.JOBS_FINISHED.labels("unknown", "failed", "internal_error").inc()
    job_announcer()(job_uuid)
    return "failed"


def _count(outcome: apply.Outcome) -> None:
    command = outcome.command or "unknown"
    metrics.JOBS_FINISHED.labels(command, outcome.status, outcome.error_code or "").inc()
    if outcome.accepted_at is not None:
        metrics.JOB_LATENCY.labels(command).observe((utcnow() - outcome.accepted_at).total_seconds())


def publish_job(message: JobMessage) -> None:
    """Ask a worker to apply the job; raises if the broker did not confirm in time,
    and QueueFull if it refused the message (the queue's length limit)."""
    try:
        _send(message)
    except kombu.exceptions.OperationalError as exc:
        # kombu wraps py-amqp's MessageNacked, the broker's answer to a publish
        # into a full queue with `overflow: reject-publish`.
        if isinstance(exc.__cause__, MessageNacked):
            raise QueueFull(str(message.id)) from exc
        raise


def _send(message: JobMessage) -> None:
    apply_order_command.apply_async(
        args=[str(message.id)],
        task_id=str(message.id),
        shadow=message.task_label,
        # Bounded: the API answers within seconds even when RabbitMQ is down or
        # blocked; the job is already committed as `queued`.
        retry=True,
        retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2, "interval_max": 0.5},
        timeout=3,
        confirm_timeout=3,
    )
