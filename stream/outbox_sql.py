"""The stream outbox's SQL: the CTE the changing statements include, and the
publisher's statements.

The CTE inserts every event of :events (webhooks/outbox.py builds them: one
order.status_changed per applied command, one job.finished per finished
job), in their order, only when the CTE named `happened` returned a row and
:stream is true (EVENT_STREAM_ENABLED). So an event is in the outbox if and
only if its change committed.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

import config

# One publisher at a time keeps each order's events in order (a second one
# waits as a standby): the lock is held by the round's transaction.
PUBLISHER_LOCK = 0x0DE7_5742


def stream_cte(happened: str) -> str:
    """A CTE (to follow others in a WITH) writing :events to the outbox."""
    return f"""
stream_outbox_rows AS (
    INSERT INTO stream_outbox (event_id, tenant_id, order_id, type, payload)
    SELECT e.id, e.tenant_id, CAST(e.payload->>'order_id' AS uuid), e.type, e.payload
    FROM ROWS FROM (jsonb_to_recordset(CAST(:events AS jsonb)) AS (id uuid, tenant_id uuid, type text, payload jsonb))
         WITH ORDINALITY AS e(id, tenant_id, type, payload, n)
    WHERE CAST(:stream AS boolean) AND EXISTS (SELECT FROM {happened})
    ORDER BY e.n
)"""


@functools.cache
def enabled() -> bool:
    """The value the changing statements bind as :stream (read once per
    process: building the settings costs more than a worker's whole batch)."""
    return config.current().event_stream_enabled


_CLAIM = text("""
SELECT seq, event_id, tenant_id, order_id, type, payload, created_at
FROM stream_outbox ORDER BY seq LIMIT :limit FOR UPDATE
""")
_DELETE = text("DELETE FROM stream_outbox WHERE seq = ANY(:seqs)")
_LAG = text("SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM stream_outbox")


class StreamSql:
    """The publisher's statements, in its unit of work."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def take_publisher_lock(self) -> bool:
        """True when no other publisher holds the lock (until this transaction ends)."""
        return bool(
            self._session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PUBLISHER_LOCK}).scalar()
        )

    def oldest(self, limit: int) -> list[Row[Any]]:
        """The oldest unpublished events, in publishing order, locked."""
        return list(self._session.execute(_CLAIM, {"limit": limit}))

    def delete(self, seqs: list[int]) -> None:
        self._session.execute(_DELETE, {"seqs": seqs})

    def backlog(self) -> tuple[int, float]:
        """(events waiting, age in seconds of the oldest)."""
        row = self._session.execute(_LAG).one()
        return int(row[0]), float(row[1])
