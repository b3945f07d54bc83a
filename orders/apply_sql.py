"""The worker's writes: each a single statement, so that applying a job costs a
handful of round trips in one transaction (BEGIN, start the job, read the
order, write, COMMIT).

The change to the order, its event, the job's result and its webhook
deliveries (webhooks/outbox.py) are one statement: they commit together
or not at all, and a compare-and-set that matches no row writes nothing else.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from models.base import iso, utcnow
from models.job import JobStatus
from models.status import Command, OrderStatus
from webhooks.outbox import APPLIED_EVENTS, job_finished_events, outbox_ctes

_START = text("""
UPDATE jobs SET attempts = attempts + 1, started_at = coalesce(started_at, now()), last_attempt_at = now()
WHERE id = :id AND status IN (:queued, :running)
RETURNING id, tenant_id, command, order_id, payload, expected_version, request_id, created_at
""")


def start_job(session: Session, job_id: uuid.UUID) -> Row[Any] | None:
    """Lock an unfinished job for this transaction and count the attempt;
    None when it is finished (cancelled included) or unknown. Two deliveries
    of one job serialize on this row lock, and the second then finds the job
    finished; so does a cancel (repository.cancel_queued_job), which either
    comes first and wins, or waits for this transaction and finds the job
    finished.

    The status stays as it is: no one else sees the job before the commit that
    finishes it, and an update of no indexed column can be a HOT update.
    """
    params = {"id": job_id, "queued": JobStatus.QUEUED.value, "running": JobStatus.RUNNING.value}
    return session.execute(_START, params).first()


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
),{outbox_ctes(APPLIED_EVENTS)}
UPDATE jobs SET status = :succeeded, error = NULL, finished_at = :now
WHERE id = :job_id AND EXISTS (SELECT FROM event)
RETURNING (SELECT version FROM event)
""").bindparams(bindparam("items", type_=JSONB))


def apply_create(session: Session, job: Row[Any], total_cents: int) -> int:
    """Insert the order a create job carries at version 1, its first event,
    and finish the job; returns the version (1)."""
    payload: dict[str, Any] = job.payload or {}
    now = utcnow()
    return int(
        session.execute(
            _CREATE,
            {
                "order_id": job.order_id,
                "tenant_id": job.tenant_id,
                "status": OrderStatus.PENDING.value,
                "from_status": None,
                "to_status": OrderStatus.PENDING.value,
                "finished_at": iso(now),
                "currency": payload["currency"],
                "items": payload["items"],
                "total_cents": total_cents,
                "customer_ref": payload.get("customer_ref"),
                "command": Command.CREATE.value,
                "job_id": job.id,
                "succeeded": JobStatus.SUCCEEDED.value,
                "now": now,
            },
        ).scalar_one()
    )


# The optimistic lock is the first CTE: `WHERE id = :id AND version = :v`.
# When another writer won, it matches no row, and so neither the event nor the
# job's result is written: the statement returns no row.
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
),{outbox_ctes(APPLIED_EVENTS)}
UPDATE jobs SET status = :succeeded, error = NULL, finished_at = :now
WHERE id = :job_id AND EXISTS (SELECT FROM event)
RETURNING (SELECT version FROM event)
""")


def apply_transition(session: Session, job: Row[Any], order: Row[Any], new_status: OrderStatus) -> int | None:
    """Compare-and-set the order from the version read to `new_status`, record
    the event and finish the job; the new version, or None when another
    writer changed the order since it was read."""
    now = utcnow()
    return session.execute(
        _TRANSITION,
        {
            "tenant_id": job.tenant_id,
            "finished_at": iso(now),
            "order_id": order.id,
            "version": order.version,
            "from_status": order.status,
            "to_status": new_status.value,
            "deletes": new_status is OrderStatus.DELETED,
            "command": job.command,
            "job_id": job.id,
            "succeeded": JobStatus.SUCCEEDED.value,
            "now": now,
        },
    ).scalar_one_or_none()


_FAIL = text(f"""
WITH failed AS (
    UPDATE jobs SET status = 'failed', error = :error, finished_at = :now
    WHERE id = :job_id AND status IN ('queued', 'running')
    RETURNING tenant_id, id, command, order_id
),{outbox_ctes(job_finished_events("failed", "failed", "CAST(:error AS jsonb)"))}
SELECT count(*) FROM failed
""").bindparams(bindparam("error", type_=JSONB))


def fail_job(session: Session, job_id: uuid.UUID, error: dict[str, str]) -> None:
    """Finish the job as failed, with the reason a client will read, unless it
    finished meanwhile; its job.finished webhook event commits with it."""
    now = utcnow()
    session.execute(_FAIL, {"job_id": job_id, "error": error, "now": now, "finished_at": iso(now)})
