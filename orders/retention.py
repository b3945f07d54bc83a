"""Retention: what is kept, and for how long.

- Idempotency-Keys are a client's retry window: deleted after 24 h (a retry
  with an older key is accepted as a new command, docs/api.md).
- A succeeded job's payload (the new order's fields, for creates) is a copy
  of what the order itself holds: dropped after 30 days. The job row stays,
  so every order event still names its job and the order's history is whole.
  Failed jobs keep their payload: an operator may still retry them.
- A finished webhook delivery (delivered, or failed for good) is deleted
  after 30 days: the tenant's record of what was sent, not the event itself
  (the job and the order's events stay). Pending ones are never touched.

Each batch is its own short transaction over an index (no long lock, no
table scan); the relay runs a purge every hour, `db purge` on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, text

from infra.unit_of_work import UnitOfWork
from models import DeliveryStatus, JobStatus
from models.base import utcnow

BATCH = 1000

_DELETE_KEYS = text("""
DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM idempotency_keys WHERE created_at < :before LIMIT :batch))
""")

_DROP_PAYLOADS = text("""
UPDATE jobs SET payload = NULL WHERE id = ANY (ARRAY(
    SELECT id FROM jobs
    WHERE status = :succeeded AND created_at < :before AND payload IS NOT NULL
    LIMIT :batch))
""")


# Old rows come first in the table (append-mostly), so the LIMIT ends the scan early.
_DELETE_DELIVERIES = text("""
DELETE FROM webhook_deliveries WHERE id = ANY (ARRAY(
    SELECT id FROM webhook_deliveries
    WHERE status <> :pending AND created_at < :before
    LIMIT :batch))
""")


# Bound into every statement (each uses the ones it names).
_STATUSES = {"succeeded": JobStatus.SUCCEEDED, "pending": DeliveryStatus.PENDING}


@dataclass(frozen=True)
class Policy:
    """How old a record must be to go; None keeps that kind."""

    keys_after: timedelta | None = timedelta(hours=24)
    payloads_after: timedelta | None = timedelta(days=30)
    batch: int = BATCH
    deliveries_after: timedelta | None = timedelta(days=30)


@dataclass(frozen=True)
class Purged:
    keys_deleted: int
    payloads_dropped: int
    deliveries_deleted: int = 0


def purge(uow: UnitOfWork, policy: Policy, max_batches: int = 10_000) -> Purged:
    now = utcnow()
    keys = payloads = 0
    if policy.keys_after is not None:
        keys = _in_batches(uow, _DELETE_KEYS, now - policy.keys_after, policy.batch, max_batches)
    if policy.payloads_after is not None:
        before = now - policy.payloads_after
        payloads = _in_batches(uow, _DROP_PAYLOADS, before, policy.batch, max_batches)
    deliveries = 0
    if policy.deliveries_after is not None:
        before = now - policy.deliveries_after
        deliveries = _in_batches(uow, _DELETE_DELIVERIES, before, policy.batch, max_batches)
    return Purged(keys, payloads, deliveries)


def _in_batches(uow: UnitOfWork, statement: Any, before: Any, batch: int, max_batches: int) -> int:
    total = 0
    for _ in range(max_batches):
        with uow:
            params = {"before": before, "batch": batch, **_STATUSES}
            done = cast(CursorResult[Any], uow.session.execute(statement, params)).rowcount
            uow.commit()
        total += done
        if done < batch:
            break
    return total
