"""What follows the commit that finished a job, whoever finished it (the
worker's apply or failure, a client's cancel): its outcome is counted and
the requests waiting on it are woken (orders/waits.py). Its webhook events
are not here: they commit with the change (webhooks/outbox.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from infra.bootstrap import Clients
from models import JobErrorCode, JobStatus
from models.base import utcnow
from orders.waits import announce_finished
from telemetry import metrics


class Finished:
    def __init__(self, announce: Callable[[uuid.UUID], None]) -> None:
        """`announce(job_id)` wakes the requests waiting on the job; it must not raise."""
        self._announce = announce

    @classmethod
    def over_redis(cls, clients: Clients) -> Finished:
        """Announced on the state Redis (a failure is skipped: waits end at their deadline)."""
        return cls(lambda job_id: announce_finished(clients.redis, clients.redis_guard, job_id))

    def finished(
        self,
        job_id: uuid.UUID,
        command: str,
        status: JobStatus,
        code: JobErrorCode | None,
        accepted_at: datetime | None,
    ) -> None:
        """A worker applied or failed the job."""
        metrics.JOBS_FINISHED.labels(command, status, code or "").inc()
        if accepted_at is not None:
            metrics.JOB_LATENCY.labels(command).observe((utcnow() - accepted_at).total_seconds())
        self._announce(job_id)

    def cancelled(self, job_id: uuid.UUID, command: str) -> None:
        """Its client cancelled the queued job."""
        metrics.JOBS_CANCELLED.labels(command).inc()
        self._announce(job_id)

    def skipped(self) -> None:
        """A message for a job already finished (or unknown): nothing changed, nobody to wake."""
        metrics.JOBS_FINISHED.labels("unknown", "skipped", "").inc()
