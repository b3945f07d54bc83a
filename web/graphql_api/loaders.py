"""Batched loading of an order's events and jobs for one GraphQL request.

Every order a resolver returns is registered first; the first `events` (or
`jobs`) field asked of any of them loads those of all registered orders in
one statement. So a page of 100 orders with their events and jobs costs one
statement for the page, one for the events and one for the jobs, whatever
the page size (the DataLoader idea, synchronously: the Flask view executes
the query synchronously, and every registered order is known before the
first of its fields resolves).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from orders import queries
from orders.unit_of_work import OrdersUnitOfWork

# Per order, at most (the cost estimate counts on it: limits.py).
EVENTS_PER_ORDER = 100
JOBS_PER_ORDER = 100

Views = dict[str, list[dict[str, Any]]]


class OrderLoaders:
    def __init__(self, uow: Callable[[], OrdersUnitOfWork], tenant_id: uuid.UUID) -> None:
        self._uow, self._tenant_id = uow, tenant_id
        self._registered: list[str] = []
        self._events: Views = {}
        self._jobs: Views = {}

    def register(self, order_ids: list[str]) -> None:
        """Orders of the tenant a resolver is about to return."""
        self._registered.extend(order_ids)

    def events(self, order_id: str) -> list[dict[str, Any]]:
        if order_id not in self._events:
            ids = self._unloaded(self._events, order_id)
            self._events.update(queries.events_by_order(self._uow(), ids, EVENTS_PER_ORDER))
        return self._events[order_id]

    def jobs(self, order_id: str) -> list[dict[str, Any]]:
        if order_id not in self._jobs:
            ids = self._unloaded(self._jobs, order_id)
            self._jobs.update(queries.jobs_by_order(self._uow(), self._tenant_id, ids, JOBS_PER_ORDER))
        return self._jobs[order_id]

    def _unloaded(self, loaded: Views, order_id: str) -> list[uuid.UUID]:
        wanted = dict.fromkeys([*self._registered, order_id])
        return [uuid.UUID(i) for i in wanted if i not in loaded]
