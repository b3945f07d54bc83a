"""Persistence and domain state: SQLAlchemy models, the state machine, repositories."""

from models.audit import AuditEvent
from models.base import Base
from models.job import FINISHED, IdempotencyKey, Job, JobStatus
from models.order import Order, OrderEvent, PendingCacheInvalidation
from models.status import Command, InvalidTransition, OrderStatus, next_status
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
    "JobStatus",
    "Order",
    "OrderEvent",
    "OrderStatus",
    "PendingCacheInvalidation",
    "Tenant",
    "WebhookDelivery",
    "WebhookEndpoint",
    "next_status",
]
