"""JSON-ready dicts of the models: one shape for the API and the cache."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from models import Job, Order, OrderEvent, WebhookDelivery, WebhookEndpoint
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


def endpoint_view(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """A webhook endpoint, never its secret."""
    return {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": iso(endpoint.failing_since),
        "previous_secret_expires_at": iso(endpoint.previous_secret_expires_at),
        "created_at": iso(endpoint.created_at),
        "updated_at": iso(endpoint.updated_at),
    }


def delivery_view(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": str(delivery.id),
        "event_id": str(delivery.event_id),
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "next_attempt_at": iso(delivery.next_attempt_at) if delivery.status == "pending" else None,
        "occurred_at": iso(delivery.occurred_at),
        "created_at": iso(delivery.created_at),
        "delivered_at": iso(delivery.delivered_at),
        "resent_from": str(delivery.resent_from) if delivery.resent_from else None,
        "payload": delivery.payload,
    }
