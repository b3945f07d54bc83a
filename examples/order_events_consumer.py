"""A consumer of Orderly's order-event stream: a starting point for billing,
shipping or analytics services (docs/events.md).

    .venv/bin/python examples/order_events_consumer.py          # the local broker of `make run`

It joins a consumer group (one group per service: each service reads every
event; the group's members share the partitions), handles each event, and
commits offsets only for events it has handled (every COMMIT_EVERY events or
second, and at exit): a crash re-reads the events it had not committed, so
the handler must tolerate duplicates. The stream is
at least once; `id` is the same in every copy of an event, so it is the
de-duplication key (here an in-memory set of recent ids; a real service
keeps the ids it handled in its own database, in the transaction that
records the effect). One order's events arrive in order: they share a key,
hence a partition.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import OrderedDict
from typing import Any

from confluent_kafka import Consumer
from dotenv import dotenv_values

RECENT_IDS = 100_000
COMMIT_EVERY = 500  # events, or one second, whichever comes first


def settings() -> dict[str, str]:
    """KAFKA_* from the environment, else from .local/orderly.env (scripts/services.sh)."""
    local = {k: v for k, v in dotenv_values(".local/orderly.env").items() if v is not None}
    return {**local, **os.environ}


def handle(event: dict[str, Any]) -> None:
    """Your service's work. Here: one line per event."""
    data = event["data"]
    if event["type"] == "order.status_changed":
        print(f"order {event['order_id']} is now {data['to_status']} (version {data['version']})")
    elif event["type"] == "job.finished":
        print(f"order {event['order_id']}: {data['command']} {data['status']}")


def main() -> None:
    env = settings()
    consumer = Consumer({
        "bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"],
        "security.protocol": env.get("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT"),
        "sasl.mechanism": "PLAIN",
        "sasl.username": env["KAFKA_USERNAME"],
        "sasl.password": env["KAFKA_PASSWORD"],
        "group.id": env.get("CONSUMER_GROUP", "example-service"),
        # A new group starts with the oldest event kept (AUTO_OFFSET_RESET=latest: the newest).
        "auto.offset.reset": env.get("AUTO_OFFSET_RESET", "earliest"),
        "enable.auto.commit": False,  # commit what was handled, below
        "enable.auto.offset.store": False,  # an offset is stored only once its event is handled
    })  # fmt: skip
    consumer.subscribe([env.get("EVENT_STREAM_TOPIC", "orderly.order-events")])
    seen: OrderedDict[str, None] = OrderedDict()
    running = True
    uncommitted, last_commit = 0, time.monotonic()

    def stop(*_: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while running:
            message = consumer.poll(1.0)
            if uncommitted and (uncommitted >= COMMIT_EVERY or time.monotonic() - last_commit >= 1):
                consumer.commit(asynchronous=False)  # the offsets of what was handled
                uncommitted, last_commit = 0, time.monotonic()
            if message is None:
                continue
            if message.error():
                print(f"Kafka: {message.error()}")
                continue
            event = json.loads(message.value() or b"{}")
            if event.get("schema_version") != 1:
                raise SystemExit(f"unknown schema version {event.get('schema_version')}: upgrade this consumer")
            if event["id"] not in seen:
                handle(event)
                seen[event["id"]] = None
                if len(seen) > RECENT_IDS:
                    seen.popitem(last=False)
            consumer.store_offsets(message=message)  # handled: may be committed
            uncommitted += 1
    finally:
        if uncommitted:
            consumer.commit(asynchronous=False)
        consumer.close()


if __name__ == "__main__":
    main()
