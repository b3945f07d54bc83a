"""Operator maintenance: retry failed jobs."""

from __future__ import annotations

import logging
import uuid

from infra.messaging import Enqueue, JobMessage
from orders.unit_of_work import OrdersUnitOfWork
from telemetry.logs import log_context

log = logging.getLogger(__name__)


def retry_failed_job(uow: OrdersUnitOfWork, enqueue: Enqueue, job_id: uuid.UUID) -> bool:
    """Queue a failed job again (say, after fixing what made it fail); False
    unless the job exists and had failed."""
    with uow:
        job = uow.operations.requeue_failed(job_id)
        uow.commit()
    if job is None:
        return False
    with log_context(request_id=job.request_id, job_id=job_id):
        try:
            enqueue(JobMessage(job_id, job.command))
        except Exception:
            # The job is queued again in PostgreSQL: the relay publishes it later.
            log.warning("job %s: publish failed, left for the relay", job_id, exc_info=True)
        else:
            log.info("job %s: queued again by an operator", job_id)
    return True
