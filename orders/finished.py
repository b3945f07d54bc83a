"""What follows the commit that finished jobs, whoever finished them (the
worker's apply or failure, a client's cancel): their outcomes are counted
and the requests waiting on them are woken (orders/waits.py), in one Redis
round trip for a batch. Their webhook events are not here: they commit with
the change (webhooks/outbox.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from infra.bootstrap import Clients
from models.base import utcnow
from orders.apply_plan import Outcome
from orders.waits import announce_finished
from telemetry import metrics


class Finished:
    def __init__(self, announce: Callable[[Sequence[uuid.UUID]], None]) -> None:
        """`announce(job_ids)` wakes the requests waiting on those jobs; it must not raise."""
        self._announce = announce

    @classmethod
    def over_redis(cls, clients: Clients) -> Finished:
        """Announced on the state Redis (a failure is skipped: waits end at their deadline)."""
        return cls(lambda job_ids: announce_finished(clients.redis, clients.redis_guard, job_ids))

    def finished_many(self, outcomes: Sequence[Outcome]) -> None:
        """A worker applied or failed these jobs."""
        now = utcnow()
        for outcome in outcomes:
            command = outcome.command or "unknown"
            metrics.JOBS_FINISHED.labels(command, outcome.result, outcome.error_code or "").inc()
            if outcome.accepted_at is not None:
                metrics.JOB_LATENCY.labels(command).observe((now - outcome.accepted_at).total_seconds())
        if outcomes:
            self._announce([outcome.job_id for outcome in outcomes])

    def cancelled(self, job_id: uuid.UUID, command: str) -> None:
        """Its client cancelled the queued job."""
        metrics.JOBS_CANCELLED.labels(command).inc()
        self._announce([job_id])

    def skipped(self, count: int = 1) -> None:
        """Messages for jobs already finished (or unknown): nothing changed, nobody to wake."""
        if count:
            metrics.JOBS_FINISHED.labels("unknown", "skipped", "").inc(count)
