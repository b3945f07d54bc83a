"""Cancelling a queued job: POST /api/v1/jobs/{id}/cancel.

Only a job still queued can be cancelled. Its message, when a worker gets
it, then changes nothing (applying.start_job skips finished jobs). A job a
worker is applying is locked until the worker commits: the cancel waits for
that commit (at most `LOCK_WAIT_MS`) and answers with the job's outcome.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg.errors
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from infra.errors import JobNotCancellable, NotFound
from infra.unit_of_work import UnitOfWork
from models import JobStatus
from orders import repository as repo
from orders.views import job_view

# A worker's transaction lasts milliseconds; one that holds the job longer is
# stuck, and the client hears that the job is being applied.
LOCK_WAIT_MS = 2000


def cancel_job(
    session_factory: sessionmaker[Session], tenant_id: uuid.UUID, job_id: uuid.UUID
) -> tuple[dict[str, Any], bool]:
    """The tenant's job, and whether this call cancelled it. A job an earlier
    call cancelled is answered the same way (a retried cancel is safe).
    NotFound; JobNotCancellable, with the job's status, once a worker has
    claimed or finished it."""
    with UnitOfWork(session_factory) as uow:
        uow.session.execute(text(f"SET LOCAL lock_timeout = {LOCK_WAIT_MS}"))
        try:
            cancelled = repo.cancel_queued_job(uow.session, tenant_id, job_id)
        except OperationalError as exc:
            if isinstance(exc.orig, psycopg.errors.LockNotAvailable):
                raise JobNotCancellable(job_id, JobStatus.RUNNING) from None
            raise
        if cancelled is not None:
            view = job_view(cancelled)
            uow.commit()
            return view, True
        current = repo.get_job(uow.session, tenant_id, job_id)
    if current is None:
        raise NotFound(f"job {job_id} not found")
    if current.status == JobStatus.CANCELLED:
        return job_view(current), False
    raise JobNotCancellable(job_id, JobStatus(current.status))
