"""The statements of webhooks/endpoints.py, in the caller's unit of work."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from infra.pagination import Page, paginate
from models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


class EndpointsSql:
    def __init__(self, session: Session) -> None:
        self._session = session

    def lock_registrations(self, tenant_id: uuid.UUID) -> None:
        """Serialise the tenant's registrations until this transaction ends (the limit holds)."""
        self._session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"webhooks:{tenant_id}"))))

    def count_live(self, tenant_id: uuid.UUID) -> int:
        return int(self._session.scalar(select(func.count()).where(*_live(tenant_id))) or 0)

    def add(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        """Insert it; returns it with the database's defaults read back."""
        self._session.add(endpoint)
        self._session.flush()
        self._session.refresh(endpoint)
        return endpoint

    def endpoint(
        self, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, for_update: bool = False
    ) -> WebhookEndpoint | None:
        """The tenant's live endpoint (locked with `for_update`)."""
        query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, *_live(tenant_id))
        return self._session.scalar(query.with_for_update() if for_update else query)

    def endpoints(self, tenant_id: uuid.UUID, page: Page) -> tuple[list[WebhookEndpoint], int]:
        return paginate(self._session, WebhookEndpoint, _live(tenant_id), page)

    def save(self, endpoint: WebhookEndpoint) -> None:
        """Write the endpoint's changed fields now (before the view is taken)."""
        self._session.flush()

    def fail_pending(self, endpoint_id: uuid.UUID, reason: str) -> None:
        self._session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.FAILED, last_error=reason)
        )

    def delivery(self, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        return self._session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id)
        )

    def deliveries(
        self, endpoint_id: uuid.UUID, page: Page, status: DeliveryStatus | None
    ) -> tuple[list[WebhookDelivery], int]:
        where = [WebhookDelivery.endpoint_id == endpoint_id]
        if status:
            where.append(WebhookDelivery.status == status)
        return paginate(self._session, WebhookDelivery, where, page)

    def add_delivery(self, delivery: WebhookDelivery) -> WebhookDelivery:
        self._session.add(delivery)
        self._session.flush()
        self._session.refresh(delivery)
        return delivery


def _live(tenant_id: uuid.UUID) -> list[Any]:
    return [WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.deleted_at.is_(None)]
