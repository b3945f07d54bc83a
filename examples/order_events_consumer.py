"""A consumer of Orderly's order-event stream: a starting point for billing,
shipping or analytics services (docs/events.md).

    .venv/bin/python examples/order_events_consumer.py          # the local broker of `make run`

It joins a consumer group (one group per service: each service reads every
event; the group's members share the partitions), handles each event, and
commits its offset only after handling it: a crash re-reads the events it
had not committed, so the handler must tolerate duplicates. The stream is
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
from collections import OrderedDict
from typing import Any

from confluent_kafka import Consumer
from dotenv import dotenv_values

RECENT_IDS = 100_000


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
        "auto.offset.reset": "earliest",  # a new group starts with the oldest event kept
        "enable.auto.commit": False,  # commit after handling, below
    })  # fmt: skip
    consumer.subscribe([env.get("EVENT_STREAM_TOPIC", "orderly.order-events")])
    seen: OrderedDict[str, None] = OrderedDict()
    running = True

    def stop(*_: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while running:
            message = consumer.poll(1.0)
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
            consumer.commit(message=message, asynchronous=False)
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
