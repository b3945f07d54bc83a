"""Operators' reads across tenants (the CLI): jobs by filters, a job's full
record, counts by status, an order with its events. Never used by the API,
whose reads are always scoped to one tenant (orders/queries_sql.py). A
failed job's retry is here too (orders/maintenance.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from models.job import Job, JobStatus
from models.order import Order, OrderEvent
from models.tenant import Tenant


@dataclass(frozen=True)
class JobFilter:
    status: JobStatus | None = None
    tenant: str | None = None  # a tenant's name or id
    since: datetime | None = None  # accepted at or after
    command: str | None = None
    code: str | None = None  # the error code of failed jobs
    limit: int = 50


class OperationsSql:
    """Statements of the operator CLI and orders/maintenance.py, any tenant."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def find_jobs(self, where: JobFilter) -> list[Any]:
        """Newest first: job rows with their tenant's name."""
        query = select(Job, Tenant.name.label("tenant")).join(Tenant, Tenant.id == Job.tenant_id)
        if where.status:
            query = query.where(Job.status == where.status)
        if where.tenant:
            query = query.where(or_(Tenant.name == where.tenant, Job.tenant_id == _uuid_or_none(where.tenant)))
        if where.since:
            query = query.where(Job.created_at >= where.since)
        if where.command:
            query = query.where(Job.command == where.command)
        if where.code:
            query = query.where(Job.status == JobStatus.FAILED, Job.error["code"].astext == where.code)
        return list(self._session.execute(query.order_by(Job.created_at.desc()).limit(where.limit)))

    def job_with_tenant(self, job_id: uuid.UUID) -> Any | None:
        """Any tenant's job, with its tenant's name."""
        return self._session.execute(
            select(Job, Tenant.name.label("tenant")).join(Tenant, Tenant.id == Job.tenant_id).where(Job.id == job_id)
        ).first()

    def count_jobs_by_status(self) -> dict[str, int]:
        rows = self._session.execute(select(Job.status, func.count()).group_by(Job.status))
        return {status: count for status, count in rows}

    def order_with_events(self, order_id: uuid.UUID) -> tuple[Order, list[OrderEvent]] | None:
        """Any tenant's order, soft-deleted ones included, with every event."""
        order = self._session.get(Order, order_id)
        if order is None:
            return None
        query = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.version)
        return order, list(self._session.scalars(query))

    def requeue_failed(self, job_id: uuid.UUID) -> Job | None:
        """Put a failed job back to `queued` (an operator's retry); None unless it had failed."""
        return self._session.scalar(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.FAILED)
            .values(status=JobStatus.QUEUED, error=None, finished_at=None, republished_at=func.now())
            .returning(Job)
            .execution_options(synchronize_session=False)
        )


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
