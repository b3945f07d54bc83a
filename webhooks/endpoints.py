"""Webhook endpoints, as their tenant manages them through the API.

The endpoint's secret is made here and returned once (at creation and at
each rotation); only its encryption is stored. During a rotation the old
secret keeps signing beside the new one until `previous_secret_expires_at`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from infra.errors import Conflict, NotFound
from infra.pagination import Page
from models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from models.base import utcnow
from webhooks.secrets import SecretBox, new_secret
from webhooks.unit_of_work import WebhooksUnitOfWork
from webhooks.urls import UrlPolicy
from webhooks.views import delivery_view, endpoint_view


@dataclass(frozen=True)
class EndpointChanges:
    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


def register(
    uow: WebhooksUnitOfWork,
    box: SecretBox,
    urls: UrlPolicy,
    tenant_id: uuid.UUID,
    url: str,
    events: list[str],
    description: str | None,
    limit: int,
) -> tuple[dict[str, Any], str]:
    """A new endpoint and its secret (shown this once). UrlRefused, Conflict."""
    urls.check_url(url)
    secret = new_secret()
    with uow:
        uow.endpoints.lock_registrations(tenant_id)
        if uow.endpoints.count_live(tenant_id) >= limit:
            raise Conflict(f"a tenant may have {limit} webhook endpoints: delete one first")
        endpoint = uow.endpoints.add(
            WebhookEndpoint(
                tenant_id=tenant_id,
                url=url,
                events=sorted(set(events)),
                description=description,
                secret_ciphertext=box.seal(secret),
            )
        )
        view = endpoint_view(endpoint)
        uow.commit()
    return view, secret


def list_endpoints(uow: WebhooksUnitOfWork, tenant_id: uuid.UUID, page: Page) -> tuple[list[dict[str, Any]], int]:
    with uow:
        rows, total = uow.endpoints.endpoints(tenant_id, page)
        return [endpoint_view(e) for e in rows], total


def get_endpoint(uow: WebhooksUnitOfWork, tenant_id: uuid.UUID, endpoint_id: uuid.UUID) -> dict[str, Any]:
    with uow:
        return endpoint_view(_endpoint(uow, tenant_id, endpoint_id))


def update_endpoint(
    uow: WebhooksUnitOfWork, urls: UrlPolicy, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, changes: EndpointChanges
) -> dict[str, Any]:
    """Change the URL, events, description; `enabled=True` re-enables a
    disabled endpoint (its failures forgotten), `False` pauses it."""
    if changes.url is not None:
        urls.check_url(changes.url)
    with uow:
        endpoint = _endpoint(uow, tenant_id, endpoint_id, for_update=True)
        if changes.url is not None:
            endpoint.url = changes.url
        if changes.events is not None:
            endpoint.events = sorted(set(changes.events))
        if changes.description is not None:
            endpoint.description = changes.description
        if changes.enabled is not None and changes.enabled != endpoint.enabled:
            endpoint.enabled = changes.enabled
            endpoint.disabled_reason = None if changes.enabled else "disabled by the tenant"
            endpoint.failing_since = None
        endpoint.updated_at = utcnow()
        uow.endpoints.save(endpoint)
        view = endpoint_view(endpoint)
        uow.commit()
    return view


def delete_endpoint(uow: WebhooksUnitOfWork, tenant_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    """Soft delete: the endpoint and its deliveries stay readable to operators;
    its pending deliveries fail."""
    with uow:
        endpoint = _endpoint(uow, tenant_id, endpoint_id, for_update=True)
        endpoint.deleted_at = endpoint.updated_at = utcnow()
        endpoint.enabled = False
        uow.endpoints.fail_pending(endpoint_id, "the endpoint was deleted")
        uow.commit()


def rotate_secret(
    uow: WebhooksUnitOfWork, box: SecretBox, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, overlap: timedelta
) -> tuple[dict[str, Any], str]:
    """A new secret (shown this once); the current one keeps signing too for `overlap`."""
    secret = new_secret()
    with uow:
        endpoint = _endpoint(uow, tenant_id, endpoint_id, for_update=True)
        endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext if overlap else None
        endpoint.previous_secret_expires_at = utcnow() + overlap if overlap else None
        endpoint.secret_ciphertext = box.seal(secret)
        endpoint.updated_at = utcnow()
        uow.endpoints.save(endpoint)
        view = endpoint_view(endpoint)
        uow.commit()
    return view, secret


def list_deliveries(
    uow: WebhooksUnitOfWork, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, page: Page, status: DeliveryStatus | None
) -> tuple[list[dict[str, Any]], int]:
    with uow:
        _endpoint(uow, tenant_id, endpoint_id)
        rows, total = uow.endpoints.deliveries(endpoint_id, page, status)
        return [delivery_view(d) for d in rows], total


def resend(
    uow: WebhooksUnitOfWork, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> dict[str, Any]:
    """A new delivery of the same event (same event id: receivers deduplicate),
    sent at once, retried as any other."""
    with uow:
        endpoint = _endpoint(uow, tenant_id, endpoint_id)
        original = uow.endpoints.delivery(endpoint.id, delivery_id)
        if original is None:
            raise NotFound(f"delivery {delivery_id} not found")
        if not endpoint.enabled:
            raise Conflict("the endpoint is disabled: enable it (PATCH enabled=true) before resending")
        copy = uow.endpoints.add_delivery(
            WebhookDelivery(
                endpoint_id=endpoint.id,
                event_id=original.event_id,
                event_type=original.event_type,
                payload=original.payload,
                occurred_at=original.occurred_at,
                resent_from=original.id,
            )
        )
        view = delivery_view(copy)
        uow.commit()
    return view


def _endpoint(
    uow: WebhooksUnitOfWork, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, for_update: bool = False
) -> WebhookEndpoint:
    endpoint = uow.endpoints.endpoint(tenant_id, endpoint_id, for_update)
    if endpoint is None:
        raise NotFound(f"webhook {endpoint_id} not found")
    return endpoint
