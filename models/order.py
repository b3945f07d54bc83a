"""Orders and their history of applied commands."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.status import OrderStatus

_STATUSES = ", ".join(f"'{s}'" for s in OrderStatus)


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUSES})", name="status_known"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
        Index("ix_orders_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    status: Mapped[str] = mapped_column(String(16))
    # Optimistic lock: every applied command bumps it with a compare-and-set
    # (orders/apply_sql.py: UPDATE … WHERE id = :id AND version = :v).
    version: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    customer_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OrderEvent(Base):
    """One applied command. The unique constraints are the database's guarantee
    that versions have no duplicates and that no job is applied twice."""

    __tablename__ = "order_events"
    __table_args__ = (
        UniqueConstraint("order_id", "version", name="uq_order_events_order_version"),
        UniqueConstraint("job_id", name="uq_order_events_job"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    version: Mapped[int] = mapped_column(Integer)
    command: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PendingCacheInvalidation(Base):
    """An order whose cache entry could not be invalidated when it changed.

    Written in the transaction that changes the order, so a change is never
    committed without either its tombstone in Redis or a row here; the relay
    retries these until Redis takes them.
    """

    __tablename__ = "pending_cache_invalidations"

    order_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
