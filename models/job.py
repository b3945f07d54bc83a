"""Jobs: one accepted command, from queued to succeeded, failed or cancelled.

The job row is the source of truth the API reads; no Celery result backend.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.choice import Choice


class JobStatus(Choice):
    # Until the worker's commit: nobody sees a job being applied, it goes
    # from queued straight to its outcome (orders/apply.py).
    QUEUED = "queued"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Spelled as orders spell it. Only a queued job can be cancelled
    # (POST /api/v1/jobs/{id}/cancel); its message then changes nothing.
    CANCELLED = "cancelled"


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobErrorCode(Choice):
    """Why a job failed (its `error.code`)."""

    INVALID_TRANSITION = "invalid_transition"  # the command is not allowed in the order's status
    NOT_FOUND = "not_found"  # the order is gone (deleted, or never created)
    VERSION_CONFLICT = "version_conflict"  # If-Match no longer holds, or the order kept changing
    INTERNAL_ERROR = "internal_error"  # a bug, or the database unreachable for ten minutes


_STATUSES = ", ".join(f"'{s}'" for s in JobStatus)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUSES})", name="status_known"),
        Index("ix_jobs_tenant_created", "tenant_id", "created_at"),
        Index("ix_jobs_status_created", "status", "created_at"),
        # The per-tenant cap on unfinished jobs counts these (migration 0009).
        Index("ix_jobs_queued_tenant", "tenant_id", postgresql_where=text(f"status = '{JobStatus.QUEUED}'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    command: Mapped[str] = mapped_column(String(16))
    # No foreign key: a create job names the order it will create.
    order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    # The new order's fields, for create jobs only.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # Set from If-Match: the worker fails the job rather than retry on conflict.
    expected_version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[dict[str, str] | None] = mapped_column(JSONB)  # {code: JobErrorCode, detail}
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # For the relay (orders/relay.py): when a worker last picked the job up,
    # and when and how often the relay published it again.
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    republished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    republish_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # X-Request-ID of the request that accepted the job: its log lines carry it.
    request_id: Mapped[str | None] = mapped_column(String(128))


class IdempotencyKey(Base):
    """A client's Idempotency-Key, scoped to its tenant, and the job it produced."""

    __tablename__ = "idempotency_keys"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", deferrable=True, initially="DEFERRED"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
