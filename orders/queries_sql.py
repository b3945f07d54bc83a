"""The API's reads of orders, their events and jobs: always one tenant's.

Statements only; the unit of work owns the transaction (usually an
autocommit session: one statement, one round trip). The hot reads return
Core rows (attribute access like the models): building ORM objects costs
more CPU than the query itself on a poll or an apply.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from infra.pagination import Keyset, Page, keyset_paginate, paginate
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

    def orders_after(
        self, tenant_id: uuid.UUID, page: Keyset, status: OrderStatus | None = None
    ) -> tuple[list[Order], bool]:
        """A cursor page of the tenant's live orders, and whether more follow."""
        where = [Order.tenant_id == tenant_id, Order.deleted_at.is_(None)]
        if status:
            where.append(Order.status == status)
        return keyset_paginate(self._session, Order, where, page)

    def events_of(self, order_ids: list[uuid.UUID], per_order: int) -> list[OrderEvent]:
        """The first `per_order` events of each order, in one statement (the
        orders are the tenant's: the caller read them with their tenant)."""
        rank = func.row_number().over(partition_by=OrderEvent.order_id, order_by=OrderEvent.version).label("rank")
        ranked = select(OrderEvent.id, rank).where(OrderEvent.order_id.in_(order_ids)).subquery()
        query = (
            select(OrderEvent)
            .join(ranked, ranked.c.id == OrderEvent.id)
            .where(ranked.c.rank <= per_order)
            .order_by(OrderEvent.order_id, OrderEvent.version)
        )
        return list(self._session.scalars(query))

    def jobs_of(self, tenant_id: uuid.UUID, order_ids: list[uuid.UUID], per_order: int) -> list[Row[Any]]:
        """The newest `per_order` jobs of each order, oldest first, in one statement."""
        jobs = Job.__table__.c
        rank = func.row_number().over(partition_by=jobs.order_id, order_by=(jobs.created_at.desc(), jobs.id.desc()))
        ranked = (
            select(*jobs, rank.label("rank"))
            .where(jobs.tenant_id == tenant_id, jobs.order_id.in_(order_ids))
            .subquery()
        )
        query = (
            select(*(ranked.c[c.name] for c in jobs))
            .where(ranked.c.rank <= per_order)
            .order_by(ranked.c.order_id, ranked.c.created_at, ranked.c.id)
        )
        return list(self._session.execute(query))

    def job(self, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Row[Any] | None:
        """The tenant's job (another tenant's is simply not found)."""
        jobs = Job.__table__.c
        return self._session.execute(select(*jobs).where(jobs.id == job_id, jobs.tenant_id == tenant_id)).first()

    def jobs(self, tenant_id: uuid.UUID, page: Page, status: JobStatus | None = None) -> tuple[list[Job], int]:
        where = [Job.tenant_id == tenant_id]
        if status:
            where.append(Job.status == status)
        return paginate(self._session, Job, where, page)
