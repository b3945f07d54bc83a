"""`events tail`, `events backlog`: the order-event stream in Kafka, and what still waits for it."""

from __future__ import annotations

import json
import uuid

import click
from confluent_kafka import Consumer
from flask import Flask

from stream import kafka
from stream.publisher import record_backlog
from stream.unit_of_work import StreamUnitOfWork
from web.cli.context import CommandGroup, clients
from web.cli.output import emit_one, json_option


def register(app: Flask) -> None:
    @app.cli.group("events", cls=CommandGroup)
    def events() -> None:
        """The order-event stream (Kafka topic EVENT_STREAM_TOPIC, docs/events.md)."""

    @events.command("tail")
    @click.option("--from-beginning", is_flag=True, help="Start at the oldest event kept, not at the newest")
    @click.option("--limit", type=click.IntRange(min=1), help="Stop after this many events")
    @click.option("--order", "order_id", type=click.UUID, help="Only this order's events")
    @click.option("--idle-seconds", type=click.FloatRange(min=0.1), default=None,
                  help="Stop when no event came for this long (default: follow until Ctrl-C)")  # fmt: skip
    def tail(from_beginning: bool, limit: int | None, order_id: uuid.UUID | None, idle_seconds: float | None) -> None:
        """Print the stream's events as JSON lines, as a consumer receives them."""
        settings = clients().settings
        consumer = Consumer({
            **kafka.client_config(settings),
            "group.id": f"orderly-cli-tail-{uuid.uuid4().hex[:8]}",  # its own: it moves nobody's offsets
            "auto.offset.reset": "earliest" if from_beginning else "latest",
            "enable.auto.commit": False,
        })  # fmt: skip
        consumer.subscribe([settings.event_stream_topic])
        printed, idle = 0, 0.0
        try:
            while limit is None or printed < limit:
                message = consumer.poll(0.5)
                if message is None:
                    idle += 0.5
                    if idle_seconds is not None and idle >= idle_seconds:
                        break
                    continue
                if message.error():
                    raise click.ClickException(f"Kafka: {message.error()}")
                idle = 0.0
                event = json.loads(message.value() or b"{}")
                if order_id is None or event["order_id"] == str(order_id):
                    click.echo(json.dumps(event, separators=(",", ":")))
                    printed += 1
        finally:
            consumer.close()

    @events.command("backlog")
    @json_option
    def backlog(as_json: bool) -> None:
        """Events committed but not yet in Kafka, and the age of the oldest."""
        count, age = record_backlog(StreamUnitOfWork(clients().session_factory))
        emit_one({"waiting": count, "oldest_seconds": round(age, 1)}, as_json)
