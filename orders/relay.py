"""The relay: what turns "the job is committed" into "the job gets applied".

The API commits a job, then publishes its message. The message can still be
lost: the publish failed (broker down, timed out), the API crashed between the
two, or a broker-side failure dropped it. The relay looks for queued jobs
that nobody has touched for a while and publishes them again. A duplicate is
harmless: the worker skips finished jobs and serializes on the job row.

It also retries cache invalidations a worker could not deliver to Redis.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from infra.messaging import JobMessage
from orders.cache import OrderCache
from orders.unit_of_work import OrdersUnitOfWork
from telemetry import metrics
from telemetry.logs import log_context

log = logging.getLogger(__name__)

# Publishes a batch of messages with one confirm wait; returns the jobs the
# broker refused (queue full), raises when it could not publish the batch.
PublishBatch = Callable[[list[JobMessage]], list[uuid.UUID]]


@dataclass(frozen=True)
class RelayPolicy:
    # A queued job untouched this long has probably lost its message.
    queued_after: timedelta = timedelta(seconds=10)
    batch: int = 500


def run_round(uow: OrdersUnitOfWork, publish: PublishBatch, cache: OrderCache, policy: RelayPolicy) -> None:
    """One pass: republish stale jobs, retry pending cache invalidations,
    delete old cache tombstones."""
    with uow:
        claimed = uow.relay.claim_to_republish(policy.queued_after, policy.batch)
        uow.commit()
    if claimed:
        _republish(uow, publish, claimed)
    _retry_invalidations(uow, cache, policy.batch)
    cache.sweep_tombstones()


def _republish(uow: OrdersUnitOfWork, publish: PublishBatch, claimed: list[tuple[uuid.UUID, str, str | None]]) -> None:
    """Publish the claimed jobs in one batch; count those the broker took."""
    try:
        refused = set(publish([JobMessage(job_id, command) for job_id, command, _ in claimed]))
    except Exception as exc:
        # The broker is down or slow: the jobs wait for a later round.
        log.warning("relay: publishing %d jobs failed, left for later: %s", len(claimed), exc)
        return
    published = [job_id for job_id, _, _ in claimed if job_id not in refused]
    for job_id, _, request_id in claimed:
        with log_context(request_id=request_id, job_id=job_id):
            if job_id in refused:
                log.warning("relay: job %s refused by the broker (queue full), left for later", job_id)
            else:
                log.info("relay: job %s republished", job_id)
    if published:
        with uow:
            uow.relay.count_republished(published)
            uow.commit()
        log.info("relay: republished %d jobs", len(published))
        metrics.RELAY_REPUBLISHED.inc(len(published))


def _retry_invalidations(uow: OrdersUnitOfWork, cache: OrderCache, limit: int) -> None:
    with uow:
        pending = uow.relay.pending_invalidations(limit)
    done: list[tuple[uuid.UUID, int]] = []
    for order_id, version in pending:
        if not cache.invalidate(order_id, version):
            break
        done.append((order_id, version))
    if done:
        with uow:
            for order_id, version in done:
                uow.relay.forget_invalidation(order_id, version)
            uow.commit()
        log.info("relay: delivered %d pending cache invalidations", len(done))


def measure_backlog(uow: OrdersUnitOfWork) -> None:
    """Set the gauges only PostgreSQL knows: queued jobs, the age of the
    oldest, pending cache invalidations. The relay alone sets them (one
    process: no double counting across API or worker processes)."""
    with uow:
        backlog = uow.relay.backlog()
    metrics.QUEUED_JOBS.set(backlog.queued)
    metrics.OLDEST_QUEUED_AGE.set(backlog.oldest_queued_age_seconds)
    metrics.PENDING_INVALIDATIONS.set(backlog.pending_invalidations)
