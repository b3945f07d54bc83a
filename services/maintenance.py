"""Operator maintenance: republish jobs whose message may have been lost."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from models import repository as repo
from models.base import utcnow
from services.orders import Enqueue

log = logging.getLogger(__name__)


def republish_stale_jobs(
    session_factory: sessionmaker[Session], enqueue: Enqueue, older_than: timedelta, limit: int = 1000
) -> int:
    """Publish again every job still `queued` after `older_than`; return how many.

    Safe to run at any time: a job whose first message does arrive after all is
    applied once (the worker skips finished jobs and locks the job row).
    """
    with session_factory() as session:
        job_ids = repo.stale_queued_job_ids(session, utcnow() - older_than, limit)
    for job_id in job_ids:
        enqueue(job_id)
    log.info("republished %d queued jobs older than %s", len(job_ids), older_than)
    return len(job_ids)
