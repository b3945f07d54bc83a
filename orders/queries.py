"""Reads for the API: orders through the cache, jobs and events from PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from infra.errors import NotFound
from infra.faults import fault_point
from infra.pagination import Keyset, Page
from models import JobStatus, OrderStatus
from orders.cache import OrderCache
from orders.unit_of_work import OrdersUnitOfWork
from orders.views import event_view, job_view, order_view
from telemetry import metrics


def get_order(uow: OrdersUnitOfWork, cache: OrderCache, tenant_id: uuid.UUID, order_id: uuid.UUID) -> dict[str, Any]:
    """The tenant's live order, cache-aside: Redis first, PostgreSQL on a miss."""
    cached = cache.get(order_id)
    if cached is not None and cached["tenant_id"] == str(tenant_id):
        metrics.CACHE_READS.labels("hit").inc()
        return cached
    metrics.CACHE_READS.labels("miss").inc()
    with uow:
        order = uow.queries.live_order(tenant_id, order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        view = order_view(order)
    fault_point("read.before_fill")
    cache.fill(order_id, view["version"], view)
    return view


def list_orders(
    uow: OrdersUnitOfWork, tenant_id: uuid.UUID, page: Page, status: OrderStatus | None
) -> tuple[list[dict[str, Any]], int]:
    with uow:
        orders, total = uow.queries.orders(tenant_id, page, status)
        return [order_view(o) for o in orders], total


def order_page(
    uow: OrdersUnitOfWork, tenant_id: uuid.UUID, page: Keyset, status: OrderStatus | None
) -> tuple[list[dict[str, Any]], bool]:
    """A cursor page of the tenant's orders, and whether another page follows."""
    with uow:
        orders, more = uow.queries.orders_after(tenant_id, page, status)
        return [order_view(o) for o in orders], more


def events_by_order(
    uow: OrdersUnitOfWork, order_ids: list[uuid.UUID], per_order: int
) -> dict[str, list[dict[str, Any]]]:
    """The events of several of the tenant's orders (already read with their
    tenant), in one statement: order id -> events in version order."""
    with uow:
        return _by_order(order_ids, uow.queries.events_of(order_ids, per_order), event_view)


def jobs_by_order(
    uow: OrdersUnitOfWork, tenant_id: uuid.UUID, order_ids: list[uuid.UUID], per_order: int
) -> dict[str, list[dict[str, Any]]]:
    """The newest jobs of several of the tenant's orders, in one statement."""
    with uow:
        return _by_order(order_ids, uow.queries.jobs_of(tenant_id, order_ids, per_order), job_view)


def _by_order(
    order_ids: list[uuid.UUID], rows: list[Any], view: Callable[[Any], dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {str(order_id): [] for order_id in order_ids}
    for row in rows:
        found[str(row.order_id)].append(view(row))
    return found


def list_order_events(uow: OrdersUnitOfWork, tenant_id: uuid.UUID, order_id: uuid.UUID) -> list[dict[str, Any]]:
    with uow:
        if uow.queries.live_order(tenant_id, order_id) is None:
            raise NotFound(f"order {order_id} not found")
        return [event_view(e) for e in uow.queries.events(order_id)]


def get_job(uow: OrdersUnitOfWork, tenant_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        job = uow.queries.job(tenant_id, job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        return job_view(job)


def list_jobs(
    uow: OrdersUnitOfWork, tenant_id: uuid.UUID, page: Page, status: JobStatus | None
) -> tuple[list[dict[str, Any]], int]:
    with uow:
        jobs, total = uow.queries.jobs(tenant_id, page, status)
        return [job_view(j) for j in jobs], total
