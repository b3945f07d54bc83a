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

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from infra.errors import Conflict, NotFound
from infra.pagination import Page, paginate
from infra.unit_of_work import UnitOfWork
from models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from models.base import utcnow
from webhooks.secrets import SecretBox, new_secret
from webhooks.urls import UrlPolicy
from webhooks.views import delivery_view, endpoint_view


@dataclass(frozen=True)
class EndpointChanges:
    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


def register(
    session_factory: sessionmaker[Session],
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
    with UnitOfWork(session_factory) as uow:
        # Serialises a tenant's registrations, so the limit holds under concurrency.
        uow.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"webhooks:{tenant_id}"))))
        count = uow.session.scalar(
            select(func.count()).where(WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.deleted_at.is_(None))
        )
        if (count or 0) >= limit:
            raise Conflict(f"a tenant may have {limit} webhook endpoints: delete one first")
        endpoint = WebhookEndpoint(
            tenant_id=tenant_id,
            url=url,
            events=sorted(set(events)),
            description=description,
            secret_ciphertext=box.seal(secret),
        )
        uow.session.add(endpoint)
        uow.session.flush()
        uow.session.refresh(endpoint)
        view = endpoint_view(endpoint)
        uow.commit()
    return view, secret


def list_endpoints(
    session_factory: sessionmaker[Session], tenant_id: uuid.UUID, page: Page
) -> tuple[list[dict[str, Any]], int]:
    with session_factory() as session:
        rows, total = paginate(session, WebhookEndpoint, _live(tenant_id), page)
        return [endpoint_view(e) for e in rows], total


def get_endpoint(
    session_factory: sessionmaker[Session], tenant_id: uuid.UUID, endpoint_id: uuid.UUID
) -> dict[str, Any]:
    with session_factory() as session:
        return endpoint_view(_endpoint(session, tenant_id, endpoint_id))


def update_endpoint(
    session_factory: sessionmaker[Session],
    urls: UrlPolicy,
    tenant_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    changes: EndpointChanges,
) -> dict[str, Any]:
    """Change the URL, events, description; `enabled=True` re-enables a
    disabled endpoint (its failures forgotten), `False` pauses it."""
    if changes.url is not None:
        urls.check_url(changes.url)
    with UnitOfWork(session_factory) as uow:
        endpoint = _endpoint(uow.session, tenant_id, endpoint_id, for_update=True)
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
        uow.session.flush()
        view = endpoint_view(endpoint)
        uow.commit()
    return view


def delete_endpoint(session_factory: sessionmaker[Session], tenant_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    """Soft delete: the endpoint and its deliveries stay readable to operators;
    its pending deliveries fail."""
    with UnitOfWork(session_factory) as uow:
        endpoint = _endpoint(uow.session, tenant_id, endpoint_id, for_update=True)
        endpoint.deleted_at = endpoint.updated_at = utcnow()
        endpoint.enabled = False
        uow.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.FAILED, last_error="the endpoint was deleted")
        )
        uow.commit()


def rotate_secret(
    session_factory: sessionmaker[Session],
    box: SecretBox,
    tenant_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    overlap: timedelta,
) -> tuple[dict[str, Any], str]:
    """A new secret (shown this once); the current one keeps signing too for `overlap`."""
    secret = new_secret()
    with UnitOfWork(session_factory) as uow:
        endpoint = _endpoint(uow.session, tenant_id, endpoint_id, for_update=True)
        endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext if overlap else None
        endpoint.previous_secret_expires_at = utcnow() + overlap if overlap else None
        endpoint.secret_ciphertext = box.seal(secret)
        endpoint.updated_at = utcnow()
        uow.session.flush()
        view = endpoint_view(endpoint)
        uow.commit()
    return view, secret


def list_deliveries(
    session_factory: sessionmaker[Session], tenant_id: uuid.UUID, endpoint_id: uuid.UUID, page: Page, status: str | None
) -> tuple[list[dict[str, Any]], int]:
    with session_factory() as session:
        _endpoint(session, tenant_id, endpoint_id)
        where = [WebhookDelivery.endpoint_id == endpoint_id]
        if status:
            where.append(WebhookDelivery.status == status)
        rows, total = paginate(session, WebhookDelivery, where, page)
        return [delivery_view(d) for d in rows], total


def resend(
    session_factory: sessionmaker[Session], tenant_id: uuid.UUID, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
) -> dict[str, Any]:
    """A new delivery of the same event (same event id: receivers deduplicate),
    sent at once, retried as any other."""
    with UnitOfWork(session_factory) as uow:
        endpoint = _endpoint(uow.session, tenant_id, endpoint_id)
        original = uow.session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id)
        )
        if original is None:
            raise NotFound(f"delivery {delivery_id} not found")
        if not endpoint.enabled:
            raise Conflict("the endpoint is disabled: enable it (PATCH enabled=true) before resending")
        copy = WebhookDelivery(
            endpoint_id=endpoint.id,
            event_id=original.event_id,
            event_type=original.event_type,
            payload=original.payload,
            occurred_at=original.occurred_at,
            resent_from=original.id,
        )
        uow.session.add(copy)
        uow.session.flush()
        uow.session.refresh(copy)
        view = delivery_view(copy)
        uow.commit()
    return view


def _live(tenant_id: uuid.UUID) -> list[Any]:
    return [WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.deleted_at.is_(None)]


def _endpoint(
    session: Session, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, for_update: bool = False
) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, *_live(tenant_id))
    endpoint = session.scalar(query.with_for_update() if for_update else query)
    if endpoint is None:
        raise NotFound(f"webhook {endpoint_id} not found")
    return endpoint
