"""JSON-ready dicts of the models: one shape for the API and the cache."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from models import Job, Order, OrderEvent
from models.base import iso

# A model, or a Core row of its table (the hot reads return rows).
JobFields = Job | Row[Any]
OrderFields = Order | Row[Any]


def order_view(order: OrderFields) -> dict[str, Any]:
    return {
        "id": str(order.id),
        "tenant_id": str(order.tenant_id),
        "status": order.status,
        "version": order.version,
        "currency": order.currency,
        "items": order.items,
        "total_cents": order.total_cents,
        "customer_ref": order.customer_ref,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
    }


def job_view(job: JobFields) -> dict[str, Any]:
    return {
        "id": str(job.id),
        "command": job.command,
        "order_id": str(job.order_id),
        "status": job.status,
        "attempts": job.attempts,
        "error": job.error,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
    }


def event_view(event: OrderEvent) -> dict[str, Any]:
    return {
        "order_id": str(event.order_id),
        "version": event.version,
        "command": event.command,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "job_id": str(event.job_id),
        "created_at": iso(event.created_at),
    }
