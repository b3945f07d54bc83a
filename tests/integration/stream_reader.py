"""Reading the test topic from the tests: what a consumer of the stream sees,
and the checker that compares it with PostgreSQL."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from confluent_kafka import Consumer, KafkaException, TopicPartition
from sqlalchemy.orm import Session, sessionmaker

import config
from stream import kafka


class StreamReader:
    """Every message published to the topic after the reader was made (it
    starts at each partition's end), with its key and partition."""

    def __init__(self) -> None:
        settings = config.current()
        self.topic = settings.event_stream_topic
        kafka.ensure_topic(settings)
        self.consumer = Consumer({**kafka.client_config(settings), "group.id": f"test-{uuid.uuid4().hex}",
                                  "enable.auto.commit": False})  # fmt: skip
        partitions = self.consumer.list_topics(self.topic, timeout=10).topics[self.topic].partitions
        starts = []
        for partition in partitions:
            starts.append(TopicPartition(self.topic, partition, self._end(partition)))
        self.consumer.assign(starts)
        self.messages: list[dict[str, Any]] = []

    def _end(self, partition: int) -> int:
        for _ in range(40):  # a topic just made has no leaders for a moment (bounded: 20 s)
            try:
                return int(self.consumer.get_watermark_offsets(TopicPartition(self.topic, partition), timeout=10)[1])
            except KafkaException:
                time.sleep(0.5)
        raise RuntimeError(f"{self.topic}[{partition}] has no leader")

    def read_until(self, done: Callable[[list[dict[str, Any]]], bool], timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not done(self.messages):
            message = self.consumer.poll(0.5)
            if message is None or message.error():
                continue
            self.messages.append({"key": message.key().decode(), "partition": message.partition(),
                                  "headers": dict(message.headers() or []), **json.loads(message.value())})  # fmt: skip
        return self.messages

    def of_order(self, order_id: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["order_id"] == order_id]

    def close(self) -> None:
        self.consumer.close()


def expected_events(session_factory: sessionmaker[Session], order_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Per order, what PostgreSQL says happened, in order: (type, what) pairs,
    `what` the new status of a status change or the command/status of a job."""
    query = sa.text("""
        SELECT order_id, kind, what FROM (
            SELECT e.order_id, e.version AS rank, 0 AS second, 'order.status_changed' AS kind, e.to_status AS what,
                   e.created_at
            FROM order_events e WHERE e.order_id = ANY(:ids)
            UNION ALL
            SELECT j.order_id, coalesce(e.version, 0), 1, 'job.finished', j.command || ':' || j.status, j.finished_at
            FROM jobs j LEFT JOIN order_events e ON e.job_id = j.id
            WHERE j.order_id = ANY(:ids) AND j.status <> 'queued'
        ) all_events ORDER BY order_id, created_at, rank, second
    """)
    found: dict[str, list[tuple[str, str]]] = {order_id: [] for order_id in order_ids}
    with session_factory() as session:
        for order_id, kind, what in session.execute(query, {"ids": [uuid.UUID(i) for i in order_ids]}):
            found[str(order_id)].append((kind, what))
    return found


def seen_events(reader: StreamReader, order_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Per order, what the topic carried, duplicates dropped (first copy kept), in topic order."""
    found: dict[str, list[tuple[str, str]]] = {order_id: [] for order_id in order_ids}
    seen: set[str] = set()
    for message in reader.messages:
        if message["order_id"] not in found or message["id"] in seen:
            continue
        seen.add(message["id"])
        data = message["data"]
        what = data["to_status"] if message["type"] == "order.status_changed" else f"{data['command']}:{data['status']}"
        found[message["order_id"]].append((message["type"], what))
    return found
