"""The webhook outbox: which events a finished job produces, and the SQL that
writes their deliveries in the statement that makes the change.

The events are built here, in Python, from what the use case knows (the
rules a unit test can check); the statement that finishes the job binds
them as one parameter and inserts one delivery per live endpoint of the
tenant subscribed to each event, only if its own change happened. So a
crash can never lose an event nor report one that did not happen; the
webhook sender delivers what is committed, at least once. When the tenant
has no endpoint for the event, the join writes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models import EventType, JobStatus
from models.base import iso


@dataclass(frozen=True)
class Event:
    """One event, shared by every endpoint's delivery of it (receivers deduplicate on `id`)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    type: EventType
    payload: dict[str, Any]


def job_finished(
    tenant_id: uuid.UUID,
    job_id: uuid.UUID,
    command: str,
    order_id: uuid.UUID,
    status: JobStatus,
    error: dict[str, str] | None,
    finished_at: datetime,
) -> Event:
    """Every job that finishes (succeeded, failed or cancelled) reports it."""
    payload = {
        "job_id": str(job_id),
        "command": str(command),
        "order_id": str(order_id),
        "status": str(status),
        "error": error,
        "finished_at": iso(finished_at),
    }
    return Event(uuid.uuid4(), tenant_id, EventType.JOB_FINISHED, payload)


def status_changed(
    tenant_id: uuid.UUID,
    job_id: uuid.UUID,
    command: str,
    order_id: uuid.UUID,
    from_status: str | None,
    to_status: str,
    version: int,
) -> Event:
    """An applied command changed the order (its creation too: from_status null)."""
    payload = {
        "order_id": str(order_id),
        "from_status": None if from_status is None else str(from_status),
        "to_status": str(to_status),
        "version": version,
        "job_id": str(job_id),
        "command": str(command),
    }
    return Event(uuid.uuid4(), tenant_id, EventType.ORDER_STATUS_CHANGED, payload)


def as_parameter(events: list[Event]) -> list[dict[str, Any]]:
    """The events as the statements bind them (:events, a jsonb array)."""
    return [{"id": str(e.id), "tenant_id": str(e.tenant_id), "type": str(e.type), "payload": e.payload} for e in events]


def deliveries_cte(happened: str) -> str:
    """A CTE (to follow others in a WITH) writing one delivery per live
    endpoint subscribed to each event of :events, only when the CTE named
    `happened` returned a row: no change, no event."""
    return f"""
webhook_outbox AS (
    INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload)
    SELECT endpoint.id, e.id, e.type, e.payload
    FROM jsonb_to_recordset(CAST(:events AS jsonb)) AS e(id uuid, tenant_id uuid, type text, payload jsonb)
    JOIN webhook_endpoints endpoint
      ON endpoint.tenant_id = e.tenant_id AND endpoint.enabled AND endpoint.deleted_at IS NULL
     AND e.type = ANY(endpoint.events)
    WHERE EXISTS (SELECT FROM {happened})
)"""
