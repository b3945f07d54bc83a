"""Queries and writes on orders, events, jobs and idempotency keys.

Functions take a session and never commit: the caller's unit of work decides.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Row, and_, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra.pagination import Page, paginate
from models.base import iso, utcnow
from models.job import IdempotencyKey, Job, JobStatus
from models.order import Order, OrderEvent, PendingCacheInvalidation
from webhooks.outbox import job_finished_events, outbox_ctes


# ---------------------------------------------------------------- orders
# The hot reads return Core rows (attribute access like the models): building
# ORM objects costs more CPU than the query itself on a poll or an apply.
def get_live_order(session: Session, tenant_id: uuid.UUID, order_id: uuid.UUID) -> Row[Any] | None:
    """The tenant's order, unless it does not exist or was soft-deleted."""
    orders = Order.__table__.c
    return session.execute(
        select(*orders).where(orders.id == order_id, orders.tenant_id == tenant_id, orders.deleted_at.is_(None))
    ).first()


def list_events(session: Session, order_id: uuid.UUID) -> list[OrderEvent]:
    return list(session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.version)))


def list_orders(
    session: Session, tenant_id: uuid.UUID, page: Page, status: str | None = None
) -> tuple[list[Order], int]:
    where = [Order.tenant_id == tenant_id, Order.deleted_at.is_(None)]
    if status:
        where.append(Order.status == status)
    return paginate(session, Order, where, page)


# ---------------------------------------------------------------- jobs
def get_job(session: Session, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Row[Any] | None:
    jobs = Job.__table__.c
    return session.execute(select(*jobs).where(jobs.id == job_id, jobs.tenant_id == tenant_id)).first()


def list_jobs(session: Session, tenant_id: uuid.UUID, page: Page, status: str | None = None) -> tuple[list[Job], int]:
    where = [Job.tenant_id == tenant_id]
    if status:
        where.append(Job.status == status)
    return paginate(session, Job, where, page)


def count_unfinished_jobs(session: Session, tenant_id: uuid.UUID) -> int:
    """The tenant's queued and running jobs (a partial index keeps this cheap)."""
    return int(
        session.scalar(
            select(func.count()).where(
                Job.tenant_id == tenant_id, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])
            )
        )
        or 0
    )


def failed_jobs(session: Session, limit: int) -> list[Job]:
    """The newest failed jobs of every tenant, for operators."""
    return list(
        session.scalars(select(Job).where(Job.status == JobStatus.FAILED).order_by(Job.finished_at.desc()).limit(limit))
    )


def claim_jobs_to_republish(
    session: Session, queued_after: timedelta, running_after: timedelta, limit: int
) -> list[tuple[uuid.UUID, str, str | None]]:
    """Claim unfinished jobs whose message may be lost, for one relay round.

    Queued jobs qualify after `queued_after`, running ones (a worker took them,
    then nothing) after `running_after`. Each successful republish doubles the
    wait (up to 64 times, see count_republished) so a long backlog is not
    flooded with duplicates; a failed one (broker down) does not, so the job
    goes out soon after the broker is back. The claim stamps `republished_at`,
    which keeps other relays off the job meanwhile; rows a worker or another
    relay holds are skipped, never waited for. Rows of (id, command, request_id).
    """
    backoff = func.power(2, func.least(Job.republish_count, 6))
    now = func.now()
    queued_since = func.coalesce(Job.republished_at, Job.created_at)
    running_since = func.greatest(
        func.coalesce(Job.last_attempt_at, Job.started_at, Job.created_at), Job.republished_at
    )
    candidates = (
        select(Job.id)
        .where(
            Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
            or_(
                and_(Job.status == JobStatus.QUEUED, queued_since < now - queued_after * backoff),
                and_(Job.status == JobStatus.RUNNING, running_since < now - running_after * backoff),
            ),
        )
        .order_by(Job.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.execute(
        update(Job)
        .where(Job.id.in_(candidates.scalar_subquery()))
        .values(republished_at=now)
        .returning(Job.id, Job.command, Job.request_id)
        .execution_options(synchronize_session=False)
    )
    return [(row.id, row.command, row.request_id) for row in claimed]


def count_republished(session: Session, job_ids: list[uuid.UUID]) -> None:
    session.execute(
        update(Job)
        .where(Job.id.in_(job_ids))
        .values(republish_count=Job.republish_count + 1)
        .execution_options(synchronize_session=False)
    )


def requeue_failed_job(session: Session, job_id: uuid.UUID) -> Job | None:
    """Put a failed job back to `queued` (operator's retry); None unless it had failed."""
    return session.scalar(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.FAILED)
        .values(status=JobStatus.QUEUED, error=None, finished_at=None, republished_at=func.now())
        .returning(Job)
        .execution_options(synchronize_session=False)
    )


_CANCEL = text(f"""
WITH cancelled AS (
    UPDATE jobs SET status = 'cancelled', finished_at = :now
    WHERE id = :job_id AND tenant_id = :tenant_id AND status = 'queued'
    RETURNING *
),{outbox_ctes(job_finished_events("cancelled", "cancelled", "NULL"))}
SELECT * FROM cancelled
""")


def cancel_queued_job(session: Session, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Row[Any] | None:
    """Cancel the tenant's job if it is still queued (its job.finished webhook
    event commits with it); None otherwise.

    A worker applying the job holds its row lock (applying.start_job) until
    it commits: this update waits for it, then re-checks the status and finds
    the job finished. So a job is cancelled or applied, never both.
    """
    now = utcnow()
    params = {"job_id": job_id, "tenant_id": tenant_id, "now": now, "finished_at": iso(now)}
    return session.execute(_CANCEL, params).first()


# ---------------------------------------------------------------- cache invalidations
def record_pending_invalidation(session: Session, order_id: uuid.UUID, version: int) -> None:
    table = PendingCacheInvalidation.__table__
    statement = insert(PendingCacheInvalidation).values(order_id=order_id, version=version)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["order_id"], set_={"version": func.greatest(table.c.version, statement.excluded.version)}
        )
    )


@dataclass(frozen=True)
class Backlog:
    counts: dict[str, int]  # unfinished jobs by status
    oldest_queued_age_seconds: float  # 0 when nothing is queued
    pending_invalidations: int


_BACKLOG = text("""
SELECT
    (SELECT coalesce(jsonb_object_agg(status, n), '{}') FROM
        (SELECT status, count(*) AS n FROM jobs WHERE status IN ('queued', 'running') GROUP BY status) AS s),
    (SELECT greatest(coalesce(extract(epoch FROM now() - min(created_at)), 0), 0) FROM jobs WHERE status = 'queued'),
    (SELECT count(*) FROM pending_cache_invalidations)
""")


def backlog(session: Session) -> Backlog:
    """One statement; the counts use the partial index of unfinished jobs."""
    row = session.execute(_BACKLOG).one()
    counts, oldest, pending = cast(tuple[dict[str, int], Any, int], tuple(row))
    return Backlog(dict(counts), float(oldest), int(pending))


def pending_invalidations(session: Session, limit: int) -> list[tuple[uuid.UUID, int]]:
    rows = session.execute(
        select(PendingCacheInvalidation.order_id, PendingCacheInvalidation.version)
        .order_by(PendingCacheInvalidation.created_at)
        .limit(limit)
    )
    return [(order_id, version) for order_id, version in rows]


def forget_invalidation(session: Session, order_id: uuid.UUID, version: int) -> None:
    """Drop the row unless a newer change replaced it meanwhile."""
    session.execute(
        delete(PendingCacheInvalidation).where(
            PendingCacheInvalidation.order_id == order_id, PendingCacheInvalidation.version == version
        )
    )


# ---------------------------------------------------------------- idempotency
def get_idempotency_key(session: Session, tenant_id: uuid.UUID, key: str) -> IdempotencyKey | None:
    return session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.key == key)
    )


def purge_idempotency_keys(session: Session, older_than: datetime) -> int:
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < older_than))
    return cast(CursorResult[Any], result).rowcount
