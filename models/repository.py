"""Queries and writes on orders, events, jobs and idempotency keys.

Functions take a session and never commit: the caller's unit of work decides.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.base import utcnow
from models.job import FINISHED, IdempotencyKey, Job, JobStatus
from models.order import Order, OrderEvent
from models.status import Command, OrderStatus


@dataclass(frozen=True)
class Page:
    number: int
    limit: int
    sort: str  # a column name, "-" prefixed for descending


# ---------------------------------------------------------------- orders
def get_live_order(session: Session, tenant_id: uuid.UUID, order_id: uuid.UUID) -> Order | None:
    """The tenant's order, unless it does not exist or was soft-deleted."""
    return session.scalar(
        select(Order).where(Order.id == order_id, Order.tenant_id == tenant_id, Order.deleted_at.is_(None))
    )


def insert_order(session: Session, job: Job, total_cents: int) -> Order:
    payload = job.payload or {}
    now = utcnow()
    order = Order(
        id=job.order_id,
        tenant_id=job.tenant_id,
        status=OrderStatus.PENDING,
        version=1,
        currency=payload["currency"],
        items=payload["items"],
        total_cents=total_cents,
        customer_ref=payload.get("customer_ref"),
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    session.flush()
    return order


def compare_and_set_status(session: Session, order: Order, new_status: OrderStatus) -> int | None:
    """Move the order to `new_status` if nobody changed it since it was read.

    The optimistic lock: `UPDATE ... WHERE id = :id AND version = :v`. Returns the
    new version, or None when another writer won (0 rows matched).
    """
    now = utcnow()
    values: dict[str, Any] = {"status": new_status, "version": order.version + 1, "updated_at": now}
    if new_status is OrderStatus.DELETED:
        values["deleted_at"] = now
    return session.scalar(
        update(Order)
        .where(Order.id == order.id, Order.version == order.version)
        .values(**values)
        .returning(Order.version)
        .execution_options(synchronize_session=False)
    )


def record_event(
    session: Session,
    *,
    order_id: uuid.UUID,
    version: int,
    command: Command,
    from_status: str | None,
    to_status: OrderStatus,
    job_id: uuid.UUID,
) -> None:
    session.add(
        OrderEvent(
            order_id=order_id,
            version=version,
            command=command,
            from_status=from_status,
            to_status=to_status,
            job_id=job_id,
            created_at=utcnow(),
        )
    )
    session.flush()


def list_events(session: Session, order_id: uuid.UUID) -> list[OrderEvent]:
    return list(session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.version)))


def list_orders(
    session: Session, tenant_id: uuid.UUID, page: Page, status: str | None = None
) -> tuple[list[Order], int]:
    where = [Order.tenant_id == tenant_id, Order.deleted_at.is_(None)]
    if status:
        where.append(Order.status == status)
    return _paginate(session, Order, where, page)


# ---------------------------------------------------------------- jobs
def get_job(session: Session, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Job | None:
    return session.scalar(select(Job).where(Job.id == job_id, Job.tenant_id == tenant_id))


def list_jobs(session: Session, tenant_id: uuid.UUID, page: Page, status: str | None = None) -> tuple[list[Job], int]:
    where = [Job.tenant_id == tenant_id]
    if status:
        where.append(Job.status == status)
    return _paginate(session, Job, where, page)


def lock_job(session: Session, job_id: uuid.UUID) -> Job | None:
    """Lock the job row for this transaction: two deliveries of one job serialize here."""
    return session.scalar(select(Job).where(Job.id == job_id).with_for_update())


def mark_job_running(session: Session, job_id: uuid.UUID) -> Job | None:
    """Count an attempt on an unfinished job; None when it is finished or unknown."""
    return session.scalar(
        update(Job)
        .where(Job.id == job_id, Job.status.not_in(FINISHED))
        .values(
            status=JobStatus.RUNNING, attempts=Job.attempts + 1, started_at=func.coalesce(Job.started_at, func.now())
        )
        .returning(Job)
        .execution_options(synchronize_session=False)
    )


def stale_queued_job_ids(session: Session, older_than: datetime, limit: int) -> list[uuid.UUID]:
    """Jobs still queued since before `older_than`: their message may be lost."""
    return list(
        session.scalars(
            select(Job.id)
            .where(Job.status == JobStatus.QUEUED, Job.created_at < older_than)
            .order_by(Job.created_at)
            .limit(limit)
        )
    )


def finish_job(session: Session, job: Job, *, error: dict[str, str] | None = None) -> None:
    job.status = JobStatus.FAILED if error else JobStatus.SUCCEEDED
    job.error = error
    job.finished_at = utcnow()
    session.flush()


# ---------------------------------------------------------------- idempotency
def claim_idempotency_key(
    session: Session, tenant_id: uuid.UUID, key: str, request_sha256: str, job_id: uuid.UUID
) -> IdempotencyKey | None:
    """Claim `key` for `job_id`; return the earlier claim if there is one.

    A concurrent claim of the same key waits on the unique index until the first
    transaction ends, then sees its row: never two jobs for one key.
    """
    claimed = session.scalar(
        insert(IdempotencyKey)
        .values(tenant_id=tenant_id, key=key, request_sha256=request_sha256, job_id=job_id)
        .on_conflict_do_nothing(index_elements=["tenant_id", "key"])
        .returning(IdempotencyKey.job_id)
    )
    if claimed is not None:
        return None
    return session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.key == key)
    )


def purge_idempotency_keys(session: Session, older_than: datetime) -> int:
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < older_than))
    return cast(CursorResult[Any], result).rowcount


# ---------------------------------------------------------------- helpers
def _paginate(session: Session, model: type[Any], where: list[Any], page: Page) -> tuple[list[Any], int]:
    column = getattr(model, page.sort.lstrip("-"))
    order = column.desc() if page.sort.startswith("-") else column.asc()
    # The id breaks ties so pages never overlap or skip rows.
    rows: Iterable[Any] = session.scalars(
        select(model).where(*where).order_by(order, model.id).limit(page.limit).offset((page.number - 1) * page.limit)
    )
    total = session.scalar(select(func.count()).select_from(model).where(*where))
    return list(rows), int(total or 0)
