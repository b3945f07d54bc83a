"""The audit log: who created, rotated or revoked which key, and bursts of
failed authentication. Append-only for the app's role (migration 0005)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    action: Mapped[str] = mapped_column(String(40))  # key.created, key.rotated, key.revoked, auth.failures
    actor: Mapped[str] = mapped_column(String(100))  # the OS user of a CLI command, or "api"
    key_id: Mapped[str | None] = mapped_column(String(32))
    tenant_id: Mapped[uuid.UUID | None]
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
