"""A transaction over webhooks: the endpoints' and the sender's stores, bound to one session."""

from __future__ import annotations

from sqlalchemy.orm import Session

from infra.unit_of_work import UnitOfWork
from webhooks.delivery_sql import DeliverySql
from webhooks.endpoints_sql import EndpointsSql


class WebhooksUnitOfWork(UnitOfWork):
    endpoints: EndpointsSql
    deliveries: DeliverySql

    def bind(self, session: Session) -> None:
        self.endpoints = EndpointsSql(session)
        self.deliveries = DeliverySql(session)
