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

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from models.job import Job

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


def insert_job(session: Session, job: Job, key: str | None = None, request_sha256: str | None = None) -> bool:
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
    inserted: uuid.UUID | None = session.execute(statement, params).scalar_one_or_none()
    return inserted is not None
