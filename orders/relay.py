"""The relay: what turns "the job is committed" into "the job gets applied".

The API commits a job, then publishes its message. The message can still be
lost: the publish failed (broker down, timed out), the API crashed between the
two, or a broker-side failure dropped it. The relay looks for unfinished jobs
that nobody has touched for a while and publishes them again. A duplicate is
harmless: the worker skips finished jobs and serializes on the job row.

It also retries cache invalidations a worker could not deliver to Redis.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from infra.messaging import Enqueue, JobMessage
from orders import repository as repo
from orders.cache import OrderCache
from telemetry import metrics
from telemetry.logs import log_context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelayPolicy:
    # A queued job untouched this long has probably lost its message.
    queued_after: timedelta = timedelta(seconds=10)
    # Longer than the task hard time limit (celeryconfig: 90 s): a running job
    # untouched this long is not running anywhere any more.
    running_after: timedelta = timedelta(seconds=150)
    batch: int = 500


def run_round(session_factory: sessionmaker[Session], enqueue: Enqueue, cache: OrderCache, policy: RelayPolicy) -> None:
    """One pass: republish stale jobs, retry pending cache invalidations,
    delete old cache tombstones."""
    with session_factory() as session:
        claimed = repo.claim_jobs_to_republish(session, policy.queued_after, policy.running_after, policy.batch)
        session.commit()

    published: list[uuid.UUID] = []
    for job_id, command, request_id in claimed:
        with log_context(request_id=request_id, job_id=job_id):
            try:
                enqueue(JobMessage(job_id, command))
            except Exception as exc:
                # The broker is down or full: the rest wait for a later round.
                log.warning("relay: publish failed, %d jobs left for later: %s", len(claimed) - len(published), exc)
                break
            log.info("relay: job %s republished", job_id)
        published.append(job_id)
    if published:
        with session_factory() as session:
            repo.count_republished(session, published)
            session.commit()
        log.info("relay: republished %d jobs", len(published))
        metrics.RELAY_REPUBLISHED.inc(len(published))

    _retry_invalidations(session_factory, cache, policy.batch)
    cache.sweep_tombstones()


def _retry_invalidations(session_factory: sessionmaker[Session], cache: OrderCache, limit: int) -> None:
    with session_factory() as session:
        pending = repo.pending_invalidations(session, limit)
    done: list[tuple[uuid.UUID, int]] = []
    for order_id, version in pending:
        if not cache.invalidate(order_id, version):
            break
        done.append((order_id, version))
    if done:
        with session_factory() as session:
            for order_id, version in done:
                repo.forget_invalidation(session, order_id, version)
            session.commit()
        log.info("relay: delivered %d pending cache invalidations", len(done))


def measure_backlog(session_factory: sessionmaker[Session]) -> None:
    """Set the gauges only PostgreSQL knows: unfinished jobs by status, the age
    of the oldest queued one, pending cache invalidations. The relay alone
    sets them (one process: no double counting across API or worker processes)."""
    with session_factory() as session:
        backlog = repo.backlog(session)
    for status in ("queued", "running"):
        metrics.QUEUED_JOBS.labels(status).set(backlog.counts.get(status, 0))
    metrics.OLDEST_QUEUED_AGE.set(backlog.oldest_queued_age_seconds)
    metrics.PENDING_INVALIDATIONS.set(backlog.pending_invalidations)
