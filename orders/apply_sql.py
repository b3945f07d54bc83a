"""The worker's statements (orders/apply.py): a batch of jobs costs the same
round trips as one (BEGIN, start the jobs, lock their orders, write, COMMIT).

Jobs, then orders, are locked in id order, so two workers whose batches
share rows wait for each other and never deadlock. Every change of the
batch is one statement (`write`): the new orders, the compare-and-set of
each changed order `WHERE id = :id AND version = :v` (the version read
under the lock), and, only if every one of those matched, the events, each
job's result and the webhook deliveries (webhooks/outbox.py). The caller
rolls back a write that reports a miss (its new orders with it). Statuses are bound as parameters, from the enums.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from models import JobStatus
from orders.apply_plan import Plan
from stream import outbox_sql as stream_outbox
from stream.outbox_sql import stream_cte
from webhooks.outbox import Event, as_parameter, deliveries_cte

_START = text("""
UPDATE jobs SET attempts = attempts + 1, started_at = coalesce(started_at, now()), last_attempt_at = now()
WHERE id IN (SELECT id FROM jobs WHERE id = ANY(:ids) AND status = :queued ORDER BY id FOR UPDATE)
RETURNING id, tenant_id, command, order_id, payload, expected_version, request_id, created_at,
          attempts, started_at
""")

_LOCK_ORDERS = text("""
SELECT id, tenant_id, status, version, deleted_at FROM orders WHERE id = ANY(:ids) ORDER BY id FOR UPDATE
""")

_WRITE = text(f"""
WITH created AS (
    INSERT INTO orders (id, tenant_id, status, version, currency, items, total_cents, customer_ref,
                        created_at, updated_at)
    SELECT c.id, c.tenant_id, c.status, 1, c.currency, c.items, c.total_cents, c.customer_ref, :now, :now
    FROM jsonb_to_recordset(CAST(:created AS jsonb)) AS c(id uuid, tenant_id uuid, status text, currency text,
                                                        items jsonb, total_cents bigint, customer_ref text)
    RETURNING id
), changed AS (
    UPDATE orders o
    SET status = u.status, version = u.version, updated_at = :now,
        deleted_at = CASE WHEN u.deletes THEN CAST(:now AS timestamptz) ELSE o.deleted_at END
    FROM jsonb_to_recordset(CAST(:changed AS jsonb)) AS u(id uuid, read_version int, version int, status text,
                                                        deletes boolean)
    WHERE o.id = u.id AND o.version = u.read_version
    RETURNING o.id
), all_matched AS (
    SELECT WHERE (SELECT count(*) FROM created) = :created_count AND (SELECT count(*) FROM changed) = :changed_count
), events AS (
    INSERT INTO order_events (order_id, version, command, from_status, to_status, job_id, created_at)
    SELECT e.order_id, e.version, e.command, e.from_status, e.to_status, e.job_id, :now
    FROM jsonb_to_recordset(CAST(:order_events AS jsonb)) AS e(order_id uuid, version int, command text,
                                                             from_status text, to_status text, job_id uuid)
    WHERE EXISTS (SELECT FROM all_matched)
), finished AS (
    UPDATE jobs j SET status = r.status, error = r.error, finished_at = :now
    FROM jsonb_to_recordset(CAST(:results AS jsonb)) AS r(id uuid, status text, error jsonb)
    WHERE j.id = r.id AND EXISTS (SELECT FROM all_matched)
),{deliveries_cte("all_matched")},{stream_cte("all_matched")}
SELECT (SELECT count(*) FROM created), (SELECT count(*) FROM changed)
""").bindparams(*(bindparam(name, type_=JSONB) for name in ("created", "changed", "order_events", "results", "events")))

_FAIL = text(f"""
WITH failed AS (
    UPDATE jobs SET status = :failed, error = :error, finished_at = :now
    WHERE id = :job_id AND status = :queued
    RETURNING id
),{deliveries_cte("failed")},{stream_cte("failed")}
SELECT count(*) FROM failed
""").bindparams(bindparam("error", type_=JSONB), bindparam("events", type_=JSONB))

_UNFINISHED_JOB = text("""
SELECT id, tenant_id, command, order_id, payload, expected_version, request_id, created_at
FROM jobs WHERE id = :id AND status = :queued
""")

_PENDING_INVALIDATIONS = text("""
INSERT INTO pending_cache_invalidations (order_id, version)
SELECT p.order_id, p.version FROM jsonb_to_recordset(CAST(:pending AS jsonb)) AS p(order_id uuid, version int)
ON CONFLICT (order_id) DO UPDATE
SET version = greatest(pending_cache_invalidations.version, excluded.version)
""").bindparams(bindparam("pending", type_=JSONB))


class ApplySql:
    """The statements of orders/apply.py, in the caller's unit of work."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def start_jobs(self, job_ids: list[uuid.UUID]) -> list[Row[Any]]:
        """Lock the unfinished jobs among `job_ids` for this transaction and
        count their attempt; finished (cancelled included) and unknown ones
        are left out. Two deliveries of one job serialize on its row lock,
        and the second then finds it finished; so does a cancel
        (orders/cancel_sql.py), which either comes first and wins, or waits
        for this transaction and finds the job finished.

        The status stays as it is: no one else sees the job before the commit
        that finishes it, and an update of no indexed column can be a HOT update.
        """
        return list(self._session.execute(_START, {"ids": job_ids, "queued": JobStatus.QUEUED}))

    def lock_orders(self, order_ids: list[uuid.UUID]) -> list[Row[Any]]:
        """The orders (any tenant's, deleted ones too: the caller decides), locked in id order."""
        return list(self._session.execute(_LOCK_ORDERS, {"ids": order_ids})) if order_ids else []

    def write(self, plan: Plan) -> bool:
        """Write every change of the batch; False when a compare-and-set
        matched no row (the caller must roll back: nothing may stay)."""
        changed = [
            {"id": str(o.id), "read_version": o.read_version, "version": o.version, "status": str(o.status),
             "deletes": o.deleted}
            for o in plan.changed_orders()
        ]  # fmt: skip
        params = {
            "now": plan.now,
            "created": plan.created,
            "changed": changed,
            "order_events": plan.order_events,
            "results": plan.results,
            "events": as_parameter(plan.events),
            "stream": stream_outbox.enabled(),
            "created_count": len(plan.created),
            "changed_count": len(changed),
        }
        created, updated = self._session.execute(_WRITE, params).one()
        return bool(created == len(plan.created) and updated == len(changed))

    def unfinished_job(self, job_id: uuid.UUID) -> Row[Any] | None:
        """The job, unless it has finished (no lock: for failing it after its retries)."""
        return self._session.execute(_UNFINISHED_JOB, {"id": job_id, "queued": JobStatus.QUEUED}).first()

    def fail_job(self, job_id: uuid.UUID, error: dict[str, str], now: datetime, events: list[Event]) -> bool:
        """Finish the job as failed with the reason a client will read, unless
        it finished meanwhile (False); its deliveries commit with it."""
        params = {
            "job_id": job_id,
            "error": error,
            "now": now,
            "failed": JobStatus.FAILED,
            "queued": JobStatus.QUEUED,
            "events": as_parameter(events),
            "stream": stream_outbox.enabled(),
        }
        return bool(self._session.execute(_FAIL, params).scalar_one())

    def record_pending_invalidations(self, versions: list[tuple[uuid.UUID, int]]) -> None:
        """The cache could not take these tombstones: the relay delivers them later."""
        pending = [{"order_id": str(order_id), "version": version} for order_id, version in versions]
        self._session.execute(_PENDING_INVALIDATIONS, {"pending": pending})
