"""Reads for the API: orders through the cache, jobs and events from PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from infra.errors import NotFound
from infra.faults import fault_point
from infra.pagination import Page
from orders import repository as repo
from orders.cache import OrderCache
from orders.views import event_view, job_view, order_view
from telemetry import metrics


def get_order(
    session_factory: sessionmaker[Session], cache: OrderCache, tenant_id: uuid.UUID, order_id: uuid.UUID
) -> dict[str, Any]:
    """The tenant's live order, cache-aside: Redis first, PostgreSQL on a miss."""
    cached = cache.get(order_id)
    if cached is not None and cached["tenant_id"] == str(tenant_id):
        metrics.CACHE_READS.labels("hit").inc()
        return cached
    metrics.CACHE_READS.labels("miss").inc()
    with session_factory() as session:
        order = repo.get_live_order(session, tenant_id, order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        view = order_view(order)
    fault_point("read.before_fill")
    cache.fill(order_id, view["version"], view)
    return view


def list_orders(
    session_factory: sessionmaker[Session], tenant_id: uuid.UUID, page: Page, status: str | None
) -> tuple[list[dict[str, Any]], int]:
    with session_factory() as session:
        orders, total = repo.list_orders(session, tenant_id, page, status)
        return [order_view(o) for o in orders], total


def list_order_events(
    session_factory: sessionmaker[Session], tenant_id: uuid.UUID, order_id: uuid.UUID
) -> list[dict[str, Any]]:
    with session_factory() as session:
        if repo.get_live_order(session, tenant_id, order_id) is None:
            raise NotFound(f"order {order_id} not found")
        return [event_view(e) for e in repo.list_events(session, order_id)]


def get_job(session_factory: sessionmaker[Session], tenant_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any]:
    with session_factory() as session:
        job = repo.get_job(session, tenant_id, job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        return job_view(job)


def list_jobs(
    session_factory: sessionmaker[Session], tenant_id: uuid.UUID, page: Page, status: str | None
) -> tuple[list[dict[str, Any]], int]:
    with session_factory() as session:
        jobs, total = repo.list_jobs(session, tenant_id, page, status)
        return [job_view(j) for j in jobs], total
