"""Retention: what is kept, and for how long.

- Idempotency-Keys are a client's retry window: deleted after 24 h (a retry
  with an older key is accepted as a new command, docs/api.md).
- A succeeded job's payload (the new order's fields, for creates) is a copy
  of what the order itself holds: dropped after 30 days. The job row stays,
  so every order event still names its job and the order's history is whole.
  Failed jobs keep their payload: an operator may still retry them.

Each batch is its own short transaction over an index (no long lock, no
table scan); the relay runs a purge every hour, `db purge` on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, text
from sqlalchemy.orm import Session, sessionmaker

from models.base import utcnow

BATCH = 1000

_DELETE_KEYS = text("""
DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
    SELECT ctid FROM idempotency_keys WHERE created_at < :before LIMIT :batch))
""")

_DROP_PAYLOADS = text("""
UPDATE jobs SET payload = NULL WHERE id = ANY (ARRAY(
    SELECT id FROM jobs
    WHERE status = 'succeeded' AND created_at < :before AND payload IS NOT NULL
    LIMIT :batch))
""")


@dataclass(frozen=True)
class Policy:
    """How old a record must be to go; None keeps that kind."""

    keys_after: timedelta | None = timedelta(hours=24)
    payloads_after: timedelta | None = timedelta(days=30)
    batch: int = BATCH


@dataclass(frozen=True)
class Purged:
    keys_deleted: int
    payloads_dropped: int


def purge(session_factory: sessionmaker[Session], policy: Policy, max_batches: int = 10_000) -> Purged:
    now = utcnow()
    keys = payloads = 0
    if policy.keys_after is not None:
        keys = _in_batches(session_factory, _DELETE_KEYS, now - policy.keys_after, policy.batch, max_batches)
    if policy.payloads_after is not None:
        before = now - policy.payloads_after
        payloads = _in_batches(session_factory, _DROP_PAYLOADS, before, policy.batch, max_batches)
    return Purged(keys, payloads)


def _in_batches(
    session_factory: sessionmaker[Session], statement: Any, before: Any, batch: int, max_batches: int
) -> int:
    total = 0
    for _ in range(max_batches):
        with session_factory() as session:
            done = cast(CursorResult[Any], session.execute(statement, {"before": before, "batch": batch})).rowcount
            session.commit()
        total += done
        if done < batch:
            break
    return total
