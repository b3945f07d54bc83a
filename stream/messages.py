"""What a Kafka consumer of the stream reads (docs/events.md): schema version 1.

Key: the order id (UTF-8), so one order's events share a partition and keep
their order. Value: JSON {schema_version, id, type, tenant_id, order_id,
occurred_at, data}; `id` is the event id, the same in every duplicate (the
stream is at least once: consumers de-duplicate on it). Headers repeat the
event id, type and schema version, for consumers that route on them.
"""

from __future__ import annotations

import json
from typing import Any

from models.base import iso

SCHEMA_VERSION = 1


def key(row: Any) -> bytes:
    return str(row.order_id).encode()


def value(row: Any) -> bytes:
    document = {
        "schema_version": SCHEMA_VERSION,
        "id": str(row.event_id),
        "type": row.type,
        "tenant_id": str(row.tenant_id),
        "order_id": str(row.order_id),
        "occurred_at": iso(row.created_at),
        "data": row.payload,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def headers(row: Any) -> list[tuple[str, str | bytes | None]]:
    return [
        ("event_id", str(row.event_id).encode()),
        ("type", row.type.encode()),
        ("schema_version", str(SCHEMA_VERSION).encode()),
    ]
