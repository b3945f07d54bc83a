"""What follows the commit that finished jobs, whoever finished them (the
worker's apply or failure, a client's cancel): their outcomes are counted
and the requests waiting on them are woken (orders/waits.py), in one Redis
round trip for a batch. The wake-up carries each finished job as a read
would show it, when known, so a waiting request need not read it again.
Their webhook events are not here: they commit with the change
(webhooks/outbox.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from infra.bootstrap import Clients
from models.base import utcnow
from orders.apply_plan import Outcome
from orders.waits import Announcement, announce_finished
from telemetry import metrics


class Finished:
    def __init__(self, announce: Callable[[Sequence[Announcement]], None]) -> None:
        """`announce([(job_id, view or None), ...])` wakes the requests
        waiting on those jobs; it must not raise."""
        self._announce = announce

    @classmethod
    def over_redis(cls, clients: Clients) -> Finished:
        """Announced on the state Redis (a failure is skipped: waits end at their deadline)."""
        return cls(lambda finished: announce_finished(clients.redis, clients.redis_guard, finished))

    def finished_many(self, outcomes: Sequence[Outcome]) -> None:
        """A worker applied or failed these jobs."""
        now = utcnow()
        for outcome in outcomes:
            command = outcome.command or "unknown"
            metrics.JOBS_FINISHED.labels(command, outcome.result, outcome.error_code or "").inc()
            if outcome.accepted_at is not None:
                metrics.JOB_LATENCY.labels(command).observe((now - outcome.accepted_at).total_seconds())
        if outcomes:
            self._announce([(outcome.job_id, outcome.view) for outcome in outcomes])

    def cancelled(self, job_id: uuid.UUID, command: str, view: dict[str, Any] | None = None) -> None:
        """Its client cancelled the queued job (`view`: the cancelled job)."""
        metrics.JOBS_CANCELLED.labels(command).inc()
        self._announce([(job_id, view)])

    def skipped(self, count: int = 1) -> None:
        """Messages for jobs already finished (or unknown): nothing changed, nobody to wake."""
        if count:
            metrics.JOBS_FINISHED.labels("unknown", "skipped", "").inc(count)
