"""JSON-ready dicts of webhook endpoints and deliveries, as the API answers them."""

from __future__ import annotations

from typing import Any

from models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from models.base import iso


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
        "next_attempt_at": iso(delivery.next_attempt_at) if delivery.status == DeliveryStatus.PENDING else None,
        "occurred_at": iso(delivery.occurred_at),
        "created_at": iso(delivery.created_at),
        "delivered_at": iso(delivery.delivered_at),
        "resent_from": str(delivery.resent_from) if delivery.resent_from else None,
        "payload": delivery.payload,
    }
