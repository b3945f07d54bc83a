"""What the worker tells Flower: one task event per message, when it ends,
carrying what Flower's task pages show (workers/task_events.py)."""

from __future__ import annotations

import time
import uuid
from contextlib import suppress
from typing import Any

from kombu import Connection, Consumer, Exchange, Queue

import config


def test_a_finished_message_is_one_event_with_its_name_args_and_times(api):
    events: list[dict[str, Any]] = []

    def received(body: dict[str, Any] | list[dict[str, Any]]) -> None:
        # A prefork worker buffers task events and sends them in lists.
        events.extend(body if isinstance(body, list) else [body])

    # Celery's event exchange; a queue of our own sees what Flower's sees.
    queue = Queue(f"test-events-{uuid.uuid4().hex}", Exchange("celeryev", type="topic"), routing_key="task.#",
                  durable=False, auto_delete=True, exclusive=True)  # fmt: skip
    with (
        Connection(config.current().broker_url) as connection,
        Consumer(connection, [queue], callbacks=[lambda body, _message: received(body)], accept=["json"]),
    ):
        job = api.submit_create()
        assert api.wait(job)["status"] == "succeeded"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(e.get("uuid") == job["id"] for e in events):
            with suppress(TimeoutError):
                connection.drain_events(timeout=0.5)
        with suppress(TimeoutError):  # anything else the worker sent for it right after
            connection.drain_events(timeout=0.5)

    mine = [e for e in events if e.get("uuid") == job["id"]]
    assert [e["type"] for e in mine] == ["task-succeeded"]
    event = mine[0]
    assert event["name"] == "orderly.create"
    assert job["id"] in event["args"]
    assert event["received"] <= event["started"] <= event["timestamp"]
    assert event["runtime"] > 0
