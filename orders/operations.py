"""Operators' reads across tenants (the CLI): jobs by filters, a job's full
record, counts by status, an order with its events. Never used by the API,
whose reads are always scoped to one tenant (orders/repository.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models.job import Job, JobStatus
from models.order import Order, OrderEvent
from models.tenant import Tenant


@dataclass(frozen=True)
class JobFilter:
    status: str | None = None
    tenant: str | None = None  # a tenant's name or id
    since: datetime | None = None  # accepted at or after
    command: str | None = None
    code: str | None = None  # the error code of failed jobs
    limit: int = 50


def find_jobs(session: Session, where: JobFilter) -> list[Any]:
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
    return list(session.execute(query.order_by(Job.created_at.desc()).limit(where.limit)))


def get_job(session: Session, job_id: uuid.UUID) -> Any | None:
    row = session.execute(
        select(Job, Tenant.name.label("tenant")).join(Tenant, Tenant.id == Job.tenant_id).where(Job.id == job_id)
    ).first()
    return row


def count_jobs_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
    return {status: count for status, count in rows}


def get_order_with_events(session: Session, order_id: uuid.UUID) -> tuple[Order, list[OrderEvent]] | None:
    """Any tenant's order, soft-deleted ones included, with every event."""
    order = session.get(Order, order_id)
    if order is None:
        return None
    events = session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.version))
    return order, list(events)


def _uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
