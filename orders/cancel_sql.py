"""The cancel's statements (orders/cancel.py), in the caller's unit of work."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from models import JobStatus
from orders.queries_sql import QueriesSql
from stream import outbox_sql as stream_outbox
from stream.outbox_sql import stream_cte
from webhooks.outbox import Event, as_parameter, deliveries_cte

_CANCEL = text(f"""
WITH cancelled AS (
    UPDATE jobs SET status = :cancelled, finished_at = :now
    WHERE id = :job_id AND tenant_id = :tenant_id AND status = :queued
    RETURNING *
),{deliveries_cte("cancelled")},{stream_cte("cancelled")}
SELECT * FROM cancelled
""").bindparams(bindparam("events", type_=JSONB))


class CancelSql:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._queries = QueriesSql(session)

    def job(self, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Row[Any] | None:
        return self._queries.job(tenant_id, job_id)

    def wait_for_locks_at_most(self, milliseconds: int) -> None:
        """This transaction gives up on a row lock after `milliseconds` (LockNotAvailable)."""
        self._session.execute(text(f"SET LOCAL lock_timeout = {int(milliseconds)}"))

    def cancel_queued(
        self, tenant_id: uuid.UUID, job_id: uuid.UUID, now: datetime, events: list[Event]
    ) -> Row[Any] | None:
        """Cancel the tenant's job if it is still queued, its deliveries with
        it; the cancelled job, or None.

        A worker applying the job holds its row lock (ApplySql.start_job)
        until it commits: this update waits for it, then re-checks the status
        and finds the job finished. So a job is cancelled or applied, never both.
        """
        params = {
            "job_id": job_id,
            "tenant_id": tenant_id,
            "now": now,
            "cancelled": JobStatus.CANCELLED,
            "queued": JobStatus.QUEUED,
            "events": as_parameter(events),
            "stream": stream_outbox.enabled(),
        }
        return self._session.execute(_CANCEL, params).first()
