"""The relay's statements (orders/relay.py), in the caller's unit of work."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from models import Job, JobStatus, PendingCacheInvalidation

_BACKLOG = text("""
SELECT
    (SELECT count(*) FROM jobs WHERE status = :queued),
    (SELECT greatest(coalesce(extract(epoch FROM now() - min(created_at)), 0), 0) FROM jobs WHERE status = :queued),
    (SELECT count(*) FROM pending_cache_invalidations)
""")


@dataclass(frozen=True)
class Backlog:
    queued: int  # unfinished jobs
    oldest_queued_age_seconds: float  # 0 when nothing is queued
    pending_invalidations: int


class RelaySql:
    def __init__(self, session: Session) -> None:
        self._session = session

    def claim_to_republish(self, queued_after: timedelta, limit: int) -> list[tuple[uuid.UUID, str, str | None]]:
        """Claim queued jobs whose message may be lost, for one relay round.

        A job qualifies once nobody touched it for `queued_after`. Each
        successful republish doubles that wait (up to 64 times, see
        `count_republished`) so a long backlog is not flooded with
        duplicates; a failed one (broker down) does not, so the job goes out
        soon after the broker is back. The claim stamps `republished_at`,
        which keeps other relays off the job meanwhile; rows a worker or
        another relay holds are skipped, never waited for. Rows of
        (id, command, request_id).
        """
        backoff = func.power(2, func.least(Job.republish_count, 6))
        untouched_since = func.coalesce(Job.republished_at, Job.created_at)
        candidates = (
            select(Job.id)
            .where(Job.status == JobStatus.QUEUED, untouched_since < func.now() - queued_after * backoff)
            .order_by(Job.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = self._session.execute(
            update(Job)
            .where(Job.id.in_(candidates.scalar_subquery()))
            .values(republished_at=func.now())
            .returning(Job.id, Job.command, Job.request_id)
            .execution_options(synchronize_session=False)
        )
        return [(row.id, row.command, row.request_id) for row in claimed]

    def count_republished(self, job_ids: list[uuid.UUID]) -> None:
        self._session.execute(
            update(Job)
            .where(Job.id.in_(job_ids))
            .values(republish_count=Job.republish_count + 1)
            .execution_options(synchronize_session=False)
        )

    def pending_invalidations(self, limit: int) -> list[tuple[uuid.UUID, int]]:
        rows = self._session.execute(
            select(PendingCacheInvalidation.order_id, PendingCacheInvalidation.version)
            .order_by(PendingCacheInvalidation.created_at)
            .limit(limit)
        )
        return [(order_id, version) for order_id, version in rows]

    def forget_invalidation(self, order_id: uuid.UUID, version: int) -> None:
        """Drop the row unless a newer change replaced it meanwhile."""
        self._session.execute(
            delete(PendingCacheInvalidation).where(
                PendingCacheInvalidation.order_id == order_id, PendingCacheInvalidation.version == version
            )
        )

    def backlog(self) -> Backlog:
        """One statement; the counts use the partial index of queued jobs."""
        row = self._session.execute(_BACKLOG, {"queued": JobStatus.QUEUED}).one()
        queued, oldest, pending = cast(tuple[int, Any, int], tuple(row))
        return Backlog(int(queued), float(oldest), int(pending))
