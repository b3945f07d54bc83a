"""The webhook sender's statements (webhooks/delivery.py), in the caller's unit of work."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from models import DeliveryStatus

_CLAIM = text("""
WITH due AS (
    SELECT id FROM webhook_deliveries
    WHERE status = :pending AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries d
SET next_attempt_at = now() + :lease, attempts = d.attempts + 1, last_attempt_at = now()
FROM due, webhook_endpoints e
WHERE d.id = due.id AND e.id = d.endpoint_id
RETURNING d.id, d.event_id, d.event_type, d.payload, d.occurred_at, d.created_at, d.attempts,
          e.id AS endpoint_id, e.url, e.enabled, e.deleted_at, e.disabled_reason, e.secret_ciphertext,
          e.previous_secret_ciphertext, e.previous_secret_expires_at
""")


_DELIVERED = text("""
WITH delivered AS (
    UPDATE webhook_deliveries
    SET status = :delivered, delivered_at = now(), last_status_code = :code, last_error = NULL
    WHERE id = :id AND status = :pending
    RETURNING endpoint_id
)
UPDATE webhook_endpoints SET failing_since = NULL WHERE id IN (SELECT endpoint_id FROM delivered)
""")

_FAILED_ATTEMPT = text("""
UPDATE webhook_deliveries
SET status = CASE WHEN :give_up THEN CAST(:failed AS text) ELSE CAST(:pending AS text) END,
    next_attempt_at = CASE WHEN :give_up THEN next_attempt_at ELSE now() + :backoff END,
    last_status_code = :code, last_error = :error
WHERE id = :id AND status = :pending
""")

_ENDPOINT_STATE = text("""
SELECT enabled, coalesce(failing_since, now()) AS failing_since, now() AS now
FROM webhook_endpoints WHERE id = :id FOR UPDATE
""")
_STILL_FAILING = text("UPDATE webhook_endpoints SET failing_since = :since WHERE id = :id")
_DISABLE = text("""
WITH endpoint AS (
    UPDATE webhook_endpoints
    SET enabled = false, disabled_reason = :reason, failing_since = :since, updated_at = now()
    WHERE id = :id
    RETURNING id
)
UPDATE webhook_deliveries d SET status = :failed, last_error = 'the endpoint was disabled: ' || :reason
FROM endpoint WHERE d.endpoint_id = endpoint.id AND d.status = :pending
""")


class DeliverySql:
    def __init__(self, session: Session) -> None:
        self._session = session

    def claim(self, limit: int, lease: timedelta) -> list[Row[Any]]:
        """Up to `limit` due deliveries with their endpoints, each leased for `lease`."""
        return list(self._session.execute(_CLAIM, {"limit": limit, "lease": lease, **_STATUSES}))

    def mark_delivered(self, delivery_id: uuid.UUID, code: int | None) -> None:
        """Delivered (unless it finished meanwhile); its endpoint no longer failing."""
        self._session.execute(_DELIVERED, {"id": delivery_id, "code": code, **_STATUSES})

    def record_failed_attempt(
        self, delivery_id: uuid.UUID, give_up: bool, backoff: timedelta, code: int | None, error: str
    ) -> None:
        params = {"id": delivery_id, "give_up": give_up, "backoff": backoff, "code": code, "error": error[:500]}
        self._session.execute(_FAILED_ATTEMPT, {**params, **_STATUSES})

    def endpoint_state(self, endpoint_id: uuid.UUID) -> Row[Any]:
        """(enabled, failing_since or now, now), the endpoint locked for this transaction."""
        return self._session.execute(_ENDPOINT_STATE, {"id": endpoint_id}).one()

    def still_failing(self, endpoint_id: uuid.UUID, since: datetime) -> None:
        self._session.execute(_STILL_FAILING, {"id": endpoint_id, "since": since})

    def disable(self, endpoint_id: uuid.UUID, since: datetime, reason: str) -> None:
        """Disable the endpoint with the reason, and fail its pending deliveries."""
        self._session.execute(_DISABLE, {"id": endpoint_id, "since": since, "reason": reason, **_STATUSES})


_STATUSES = {"pending": DeliveryStatus.PENDING, "delivered": DeliveryStatus.DELIVERED, "failed": DeliveryStatus.FAILED}
