"""The webhook outbox: SQL that the statements finishing a job include, so
that each event's deliveries commit with the change they report, or not at all.

A crash can therefore never lose an event nor report one that did not
happen; the webhook sender delivers what is committed, at least once.
When the tenant has no endpoint for the event, the join writes nothing.
"""

from __future__ import annotations

from models.webhook import EventType


def outbox_ctes(events: str) -> str:
    """CTEs (to follow others in a WITH) writing one delivery per live
    endpoint subscribed to each event. `events` is a SELECT of (tenant_id,
    event_type, payload); each of its rows gets one event id, shared by every
    endpoint's delivery (MATERIALIZED: evaluated once per event)."""
    return f"""
webhook_events AS MATERIALIZED (
    SELECT gen_random_uuid() AS event_id, e.tenant_id, e.event_type, e.payload FROM ({events}) AS e
), webhook_outbox AS (
    INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, payload)
    SELECT endpoint.id, e.event_id, e.event_type, e.payload
    FROM webhook_events e
    JOIN webhook_endpoints endpoint
      ON endpoint.tenant_id = e.tenant_id AND endpoint.enabled AND endpoint.deleted_at IS NULL
     AND e.event_type = ANY(endpoint.events)
)"""


def job_finished_payload(job_id: str, command: str, order_id: str, status: str, error: str, finished_at: str) -> str:
    """SQL building a job.finished event's data from SQL expressions."""
    return (
        f"jsonb_build_object('job_id', CAST({job_id} AS text), 'command', {command}, "
        f"'order_id', CAST({order_id} AS text), 'status', {status}, 'error', {error}, 'finished_at', {finished_at})"
    )


def job_finished_events(finished: str, status: str, error: str) -> str:
    """The events of a statement that finished a job without applying it
    (failed, cancelled): a SELECT over the CTE `finished`, which returns the
    job's tenant_id, id, command and order_id; the parameter :finished_at."""
    payload = job_finished_payload("id", "command", "order_id", f"'{status}'", error, "CAST(:finished_at AS text)")
    return f"SELECT tenant_id, '{EventType.JOB_FINISHED}' AS event_type, {payload} AS payload FROM {finished}"


# The events of an applied command (create or transition), given the `event`
# CTE (the order event just written, with its version) and the parameters
# :tenant_id :job_id :command :order_id :from_status :to_status :finished_at.
_JOB_SUCCEEDED_PAYLOAD = job_finished_payload(
    ":job_id", "CAST(:command AS text)", ":order_id", "'succeeded'", "NULL", "CAST(:finished_at AS text)"
)
APPLIED_EVENTS = f"""
SELECT CAST(:tenant_id AS uuid) AS tenant_id, t.event_type, t.payload
FROM event CROSS JOIN LATERAL (VALUES
    ('{EventType.JOB_FINISHED}', {_JOB_SUCCEEDED_PAYLOAD}),
    ('{EventType.ORDER_STATUS_CHANGED}', jsonb_build_object(
        'order_id', CAST(:order_id AS text), 'from_status', CAST(:from_status AS text),
        'to_status', CAST(:to_status AS text), 'version', event.version,
        'job_id', CAST(:job_id AS text), 'command', CAST(:command AS text)))
) AS t(event_type, payload)"""
