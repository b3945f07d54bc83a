"""The API's writes when it accepts a command: each one statement, atomic by
itself, so accepting costs one round trip (no BEGIN, no COMMIT) when the
statement can run in autocommit.

With an Idempotency-Key, claiming the key and inserting the job are the same
statement: one key, one job (the foreign key from the claim to the job is
deferred, so it is checked when the statement commits). A concurrent claim
of the same key waits on the unique index until the first one commits, then
claims nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from models import IdempotencyKey, Job, JobStatus
from orders.queries_sql import QueriesSql

_JOB_COLUMNS = "id, tenant_id, command, order_id, payload, expected_version, status, attempts, created_at, request_id"

_CREATE = text(f"""
INSERT INTO jobs ({_JOB_COLUMNS})
VALUES (:id, :tenant_id, :command, :order_id, :payload, NULL, :status, 0, :created_at, :request_id)
RETURNING id
""").bindparams(bindparam("payload", type_=JSONB))

_CREATE_CLAIMING = text(f"""
WITH claim AS (
    INSERT INTO idempotency_keys (tenant_id, key, request_sha256, job_id)
    VALUES (:tenant_id, :key, :request_sha256, :id)
    ON CONFLICT (tenant_id, key) DO NOTHING
    RETURNING job_id
)
INSERT INTO jobs ({_JOB_COLUMNS})
SELECT :id, :tenant_id, :command, :order_id, :payload, NULL, :status, 0, :created_at, :request_id FROM claim
RETURNING id
""").bindparams(bindparam("payload", type_=JSONB))

# Only for a live order of the tenant, at the expected version if one is given.
_LIVE_ORDER = """
    SELECT FROM orders
    WHERE id = :order_id AND tenant_id = :tenant_id AND deleted_at IS NULL
      AND (CAST(:expected_version AS integer) IS NULL OR version = :expected_version)
"""

_COMMAND = text(f"""
INSERT INTO jobs ({_JOB_COLUMNS})
SELECT :id, :tenant_id, :command, :order_id, NULL, :expected_version, :status, 0, :created_at, :request_id
WHERE EXISTS ({_LIVE_ORDER})
RETURNING id
""")

_COMMAND_CLAIMING = text(f"""
WITH claim AS (
    INSERT INTO idempotency_keys (tenant_id, key, request_sha256, job_id)
    SELECT :tenant_id, :key, :request_sha256, :id WHERE EXISTS ({_LIVE_ORDER})
    ON CONFLICT (tenant_id, key) DO NOTHING
    RETURNING job_id
)
INSERT INTO jobs ({_JOB_COLUMNS})
SELECT :id, :tenant_id, :command, :order_id, NULL, :expected_version, :status, 0, :created_at, :request_id FROM claim
RETURNING id
""")


class AcceptSql:
    """The statements of orders/accept.py, in the caller's unit of work."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._queries = QueriesSql(session)

    def insert_job(self, job: Job, key: str | None = None, request_sha256: str | None = None) -> bool:
        """Insert the queued `job`, claiming the Idempotency-Key if one is given.

        False when nothing was inserted: the key was claimed before, or (for a
        command) the order is not the tenant's live order at the expected version.
        """
        params: dict[str, Any] = {
            "id": job.id,
            "tenant_id": job.tenant_id,
            "command": job.command,
            "order_id": job.order_id,
            "status": job.status,
            "created_at": job.created_at,
            "request_id": job.request_id,
            "key": key,
            "request_sha256": request_sha256,
        }
        if job.payload is not None:
            statement = _CREATE_CLAIMING if key else _CREATE
            params["payload"] = job.payload
        else:
            statement = _COMMAND_CLAIMING if key else _COMMAND
            params["expected_version"] = job.expected_version
        inserted: uuid.UUID | None = self._session.execute(statement, params).scalar_one_or_none()
        return inserted is not None

    def claimed_key(self, tenant_id: uuid.UUID, key: str) -> IdempotencyKey | None:
        """The tenant's earlier claim of `key`: the request's fingerprint and its job."""
        return self._session.scalar(
            select(IdempotencyKey).where(IdempotencyKey.tenant_id == tenant_id, IdempotencyKey.key == key)
        )

    def job(self, tenant_id: uuid.UUID, job_id: uuid.UUID) -> Row[Any] | None:
        return self._queries.job(tenant_id, job_id)

    def live_order_version(self, tenant_id: uuid.UUID, order_id: uuid.UUID) -> int | None:
        order = self._queries.live_order(tenant_id, order_id)
        return None if order is None else int(order.version)

    def count_unfinished(self, tenant_id: uuid.UUID) -> int:
        """The tenant's queued jobs (a partial index keeps this cheap)."""
        count = select(func.count()).where(Job.tenant_id == tenant_id, Job.status == JobStatus.QUEUED)
        return int(self._session.scalar(count) or 0)
