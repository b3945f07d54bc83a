"""The event stream's outbox: each order event and job.finished waits here,
written by the statement that makes the change (stream/outbox_sql.py), until
the stream publisher (workers/stream_publisher.py) has it acknowledged by
Kafka; then the row is deleted. `seq` is the publishing order: one order's
events are written by transactions that hold its row lock one after the
other, so their seq follows their commit order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class StreamOutboxEvent(Base):
    __tablename__ = "stream_outbox"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # Unique by construction (uuid4); no index: the outbox is written by
    # every command and read only in seq order.
    event_id: Mapped[uuid.UUID]
    tenant_id: Mapped[uuid.UUID]
    order_id: Mapped[uuid.UUID]
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
