"""The API's reads of orders, their events and jobs: always one tenant's.

Statements only; the unit of work owns the transaction (usually an
autocommit session: one statement, one round trip). The hot reads return
Core rows (attribute access like the models): building ORM objects costs
more CPU than the query itself on a poll or an apply.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from infra.pagination import Page, paginate
from models import Job, JobStatus, Order, OrderEvent, OrderStatus


class QueriesSql:
    def __init__(self, session: Session) -> None:
        self._session = session

    def live_order(self, tenant_id: uuid.UUID, order_id: uuid.UUID) -> Row[Any] | None:
        """The tenant's order, unless it does not exist or was soft-deleted."""
        orders = Order.__table__.c
        return self._session.execute(
            select(*orders).where(orders.id == order_id, orders.tenant_id == tenant_id, orders.deleted_at.is_(None))
        ).first()

    def events(self, order_id: uuid.UUID) -> list[OrderEvent]:
        query = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.version)
        return list(self._session.scalars(query))

    def orders(self, tenant_id: uuid.UUID, page: Page, status: OrderStatus | None = None) -> tuple[list[Order], int]:
        where = [Order.tenant_id == tenant_id, Order.deleted_at.is_(None)]
        if status:
            where.append(Order.status == status)
        return paginate(self._session, Order, where, page)

    def job(self, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Row[Any] | None:
        """The tenant's job (another tenant's is simply not found)."""
        jobs = Job.__table__.c
        return self._session.execute(select(*jobs).where(jobs.id == job_id, jobs.tenant_id == tenant_id)).first()

    def jobs(self, tenant_id: uuid.UUID, page: Page, status: JobStatus | None = None) -> tuple[list[Job], int]:
        where = [Job.tenant_id == tenant_id]
        if status:
            where.append(Job.status == status)
        return paginate(self._session, Job, where, page)
