"""The worker's statements (orders/apply.py): each a single statement, so that
applying a job costs a handful of round trips in one transaction (BEGIN,
start the job, read the order, write, COMMIT).

The change to the order, its event, the job's result and its webhook
deliveries (webhooks/outbox.py) are one statement: they commit together
or not at all, and a compare-and-set that matches no row writes nothing else.
Statuses and commands are bound as parameters, from the enums.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session

from models import Command, JobStatus, OrderStatus, PendingCacheInvalidation
from orders.queries_sql import QueriesSql
from webhooks.outbox import Event, as_parameter, deliveries_cte

_START = text("""
UPDATE jobs SET attempts = attempts + 1, started_at = coalesce(started_at, now()), last_attempt_at = now()
WHERE id = :id AND status = :queued
RETURNING id, tenant_id, command, order_id, payload, expected_version, request_id, created_at
""")

_CREATE = text(f"""
WITH new_order AS (
    INSERT INTO orders (id, tenant_id, status, version, currency, items, total_cents, customer_ref,
                        created_at, updated_at)
    VALUES (:order_id, :tenant_id, :status, 1, :currency, :items, :total_cents, :customer_ref, :now, :now)
    RETURNING id, version
), event AS (
    INSERT INTO order_events (order_id, version, command, from_status, to_status, job_id, created_at)
    SELECT id, version, :command, NULL, :status, :job_id, :now FROM new_order
    RETURNING version
),{deliveries_cte("event")}
UPDATE jobs SET status = :succeeded, error = NULL, finished_at = :now
WHERE id = :job_id AND EXISTS (SELECT FROM event)
RETURNING (SELECT version FROM event)
""").bindparams(bindparam("items", type_=JSONB), bindparam("events", type_=JSONB))

# The optimistic lock is the first CTE: `WHERE id = :id AND version = :v`.
# When another writer won, it matches no row, and so neither the event, the
# job's result nor a delivery is written: the statement returns no row.
_TRANSITION = text(f"""
WITH changed AS (
    UPDATE orders
    SET status = :to_status, version = version + 1, updated_at = :now,
        deleted_at = CASE WHEN :deletes THEN CAST(:now AS timestamptz) ELSE deleted_at END
    WHERE id = :order_id AND version = :version
    RETURNING id, version
), event AS (
    INSERT INTO order_events (order_id, version, command, from_status, to_status, job_id, created_at)
    SELECT id, version, :command, :from_status, :to_status, :job_id, :now FROM changed
    RETURNING version
),{deliveries_cte("event")}
UPDATE jobs SET status = :succeeded, error = NULL, finished_at = :now
WHERE id = :job_id AND EXISTS (SELECT FROM event)
RETURNING (SELECT version FROM event)
""").bindparams(bindparam("events", type_=JSONB))

_FAIL = text(f"""
WITH failed AS (
    UPDATE jobs SET status = :failed, error = :error, finished_at = :now
    WHERE id = :job_id AND status = :queued
    RETURNING id
),{deliveries_cte("failed")}
SELECT count(*) FROM failed
""").bindparams(bindparam("error", type_=JSONB), bindparam("events", type_=JSONB))

_UNFINISHED_JOB = text("""
SELECT id, tenant_id, command, order_id, payload, expected_version, request_id, created_at
FROM jobs WHERE id = :id AND status = :queued
""")


class ApplySql:
    """The statements of orders/apply.py, in the caller's unit of work."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._queries = QueriesSql(session)

    def start_job(self, job_id: uuid.UUID) -> Row[Any] | None:
        """Lock an unfinished job for this transaction and count the attempt;
        None when it is finished (cancelled included) or unknown. Two
        deliveries of one job serialize on this row lock, and the second then
        finds the job finished; so does a cancel (orders/cancel_sql.py), which
        either comes first and wins, or waits for this transaction and finds
        the job finished.

        The status stays as it is: no one else sees the job before the commit
        that finishes it, and an update of no indexed column can be a HOT update.
        """
        return self._session.execute(_START, {"id": job_id, "queued": JobStatus.QUEUED}).first()

    def unfinished_job(self, job_id: uuid.UUID) -> Row[Any] | None:
        """The job, unless it has finished (no lock: for failing it after its retries)."""
        return self._session.execute(_UNFINISHED_JOB, {"id": job_id, "queued": JobStatus.QUEUED}).first()

    def live_order(self, tenant_id: uuid.UUID, order_id: uuid.UUID) -> Row[Any] | None:
        return self._queries.live_order(tenant_id, order_id)

    def create_order(self, job: Row[Any], total_cents: int, now: datetime, events: list[Event]) -> int:
        """Insert the order a create job carries at version 1, its first
        event and deliveries, and finish the job; returns the version (1)."""
        payload: dict[str, Any] = job.payload or {}
        params = {
            "order_id": job.order_id,
            "tenant_id": job.tenant_id,
            "status": OrderStatus.PENDING,
            "currency": payload["currency"],
            "items": payload["items"],
            "total_cents": total_cents,
            "customer_ref": payload.get("customer_ref"),
            "command": Command.CREATE,
            "job_id": job.id,
            "succeeded": JobStatus.SUCCEEDED,
            "now": now,
            "events": as_parameter(events),
        }
        return int(self._session.execute(_CREATE, params).scalar_one())

    def transition(
        self, job: Row[Any], order: Row[Any], new_status: OrderStatus, now: datetime, events: list[Event]
    ) -> int | None:
        """Compare-and-set the order from the version read to `new_status`,
        record the event and deliveries, finish the job; the new version, or
        None when another writer changed the order since it was read."""
        params = {
            "order_id": order.id,
            "version": order.version,
            "from_status": order.status,
            "to_status": new_status,
            "deletes": new_status is OrderStatus.DELETED,
            "command": job.command,
            "job_id": job.id,
            "succeeded": JobStatus.SUCCEEDED,
            "now": now,
            "events": as_parameter(events),
        }
        return self._session.execute(_TRANSITION, params).scalar_one_or_none()

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
        }
        return bool(self._session.execute(_FAIL, params).scalar_one())

    def record_pending_invalidation(self, order_id: uuid.UUID, version: int) -> None:
        """The cache could not take the tombstone: the relay delivers it later."""
        table = PendingCacheInvalidation.__table__
        statement = insert(PendingCacheInvalidation).values(order_id=order_id, version=version)
        newest = func.greatest(table.c.version, statement.excluded.version)
        self._session.execute(statement.on_conflict_do_update(index_elements=["order_id"], set_={"version": newest}))
