"""The tables (SQLAlchemy models) and the status enums, the state machine among them."""

from models.audit import AuditEvent
from models.base import Base
from models.job import FINISHED, IdempotencyKey, Job, JobErrorCode, JobStatus
from models.order import Order, OrderEvent, PendingCacheInvalidation
from models.status import Command, InvalidTransition, OrderStatus, next_status
from models.stream import StreamOutboxEvent
from models.tenant import ApiKey, Tenant
from models.webhook import DeliveryStatus, EventType, WebhookDelivery, WebhookEndpoint

__all__ = [
    "FINISHED",
    "ApiKey",
    "AuditEvent",
    "Base",
    "Command",
    "DeliveryStatus",
    "EventType",
    "IdempotencyKey",
    "InvalidTransition",
    "Job",
    "JobErrorCode",
    "JobStatus",
    "Order",
    "OrderEvent",
    "OrderStatus",
    "PendingCacheInvalidation",
    "StreamOutboxEvent",
    "Tenant",
    "WebhookDelivery",
    "WebhookEndpoint",
    "next_status",
]
