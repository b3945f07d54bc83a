"""Cancelling a queued job: POST /api/v1/jobs/{id}/cancel.

Only a job still queued can be cancelled. Its message, when a worker gets
it, then changes nothing (the worker's start skips finished jobs). A job a
worker is applying is locked until the worker commits: the cancel waits for
that commit (at most `LOCK_WAIT_MS`) and answers with the job's outcome.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg.errors
from sqlalchemy.exc import OperationalError

from infra.errors import JobNotCancellable, NotFound
from models import JobStatus
from models.base import utcnow
from orders.finished import Finished
from orders.unit_of_work import OrdersUnitOfWork
from orders.views import job_view
from webhooks import outbox

# A worker's transaction lasts milliseconds; one that holds the job longer is
# stuck, and the client hears that the job is being applied.
LOCK_WAIT_MS = 2000
# What the 409 says of a job whose row a worker holds: not a stored status
# (nobody sees a job being applied), the answer's own word for it.
BEING_APPLIED = "running"


def cancel_job(
    uow: OrdersUnitOfWork, tenant_id: uuid.UUID, job_id: uuid.UUID, finished: Finished
) -> tuple[dict[str, Any], bool]:
    """The tenant's job, and whether this call cancelled it. A job an earlier
    call cancelled is answered the same way (a retried cancel is safe).
    NotFound; JobNotCancellable, with the job's status, once a worker has
    claimed or finished it."""
    with uow:
        job = uow.cancel.job(tenant_id, job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        if job.status == JobStatus.QUEUED:
            uow.cancel.wait_for_locks_at_most(LOCK_WAIT_MS)
            now = utcnow()
            event = outbox.job_finished(tenant_id, job_id, job.command, job.order_id, JobStatus.CANCELLED, None, now)
            try:
                cancelled = uow.cancel.cancel_queued(tenant_id, job_id, now, [event])
            except OperationalError as exc:
                if isinstance(exc.orig, psycopg.errors.LockNotAvailable):
                    raise JobNotCancellable(job_id, BEING_APPLIED) from None
                raise
            if cancelled is not None:
                uow.commit()
                view = job_view(cancelled)
                finished.cancelled(job_id, job.command, view)
                return view, True
            job = uow.cancel.job(tenant_id, job_id)  # a worker finished it meanwhile
            assert job is not None, "jobs are never deleted"
    if job.status == JobStatus.CANCELLED:
        return job_view(job), False
    raise JobNotCancellable(job_id, job.status)
