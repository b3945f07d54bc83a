"""The order-event stream against a real Kafka broker (scripts/services.sh):
every committed change reaches the topic, keyed by its order, in order, and
nothing that did not commit does; an outage of Kafka or of the publisher
loses nothing (docs/events.md)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.integration import stack
from tests.integration.stream_reader import StreamReader, expected_events, seen_events

SERVICES = stack.ROOT / "scripts" / "services.sh"


@pytest.fixture
def publisher() -> Iterator[subprocess.Popen[bytes]]:
    process = stack.start_stream_publisher()
    yield process
    stack.stop(process)


@pytest.fixture
def reader() -> Iterator[StreamReader]:
    found = StreamReader()
    yield found
    found.close()


def outbox_count(session_factory) -> int:
    with session_factory() as session:
        return int(session.execute(sa.text("SELECT count(*) FROM stream_outbox")).scalar_one())


def all_arrived(reader: StreamReader, session_factory, order_ids: list[str], timeout: float = 60) -> None:
    expected = expected_events(session_factory, order_ids)
    total = sum(len(events) for events in expected.values())
    reader.read_until(lambda _m: sum(len(e) for e in seen_events(reader, order_ids).values()) >= total, timeout)
    assert seen_events(reader, order_ids) == expected


def test_each_change_reaches_the_topic_once_keyed_by_its_order_in_order(api, publisher, reader, session_factory):
    order_id = api.create_order()
    api.apply(order_id, "pay")
    failed = api.apply(order_id, "deliver")  # a paid order cannot be delivered before it ships
    assert failed["status"] == "failed"
    api.apply(order_id, "ship")
    all_arrived(reader, session_factory, [order_id])
    mine = reader.of_order(order_id)
    assert [(m["type"], m["data"].get("to_status") or m["data"]["status"]) for m in mine] == [
        ("order.status_changed", "pending"), ("job.finished", "succeeded"),
        ("order.status_changed", "paid"), ("job.finished", "succeeded"),
        ("job.finished", "failed"),
        ("order.status_changed", "shipped"), ("job.finished", "succeeded"),
    ]  # fmt: skip
    assert {m["key"] for m in mine} == {order_id} and len({m["partition"] for m in mine}) == 1
    assert all(m["schema_version"] == 1 and m["headers"]["event_id"].decode() == m["id"] for m in mine)
    assert len({m["id"] for m in mine}) == len(mine)
    assert all(m["tenant_id"] == str(api.tenant_id) for m in mine)


def test_what_did_not_happen_is_never_reported(api, publisher, reader, session_factory):
    created = api.wait(api.submit_create())
    order_id = created["order_id"]
    # A stale If-Match is refused at once (412): no job, no event.
    stale = api.post(f"/api/v1/orders/{order_id}/commands", json={"command": "pay"}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    # Too late to cancel a finished job (409): its cancel's statement changed nothing.
    assert api.post(f"/api/v1/jobs/{created['id']}/cancel").status_code == 409
    all_arrived(reader, session_factory, [order_id])
    reader.read_until(lambda _m: False, timeout=2)  # anything that would follow
    assert [(m["type"], m["data"].get("status")) for m in reader.of_order(order_id)] == [
        ("order.status_changed", None),
        ("job.finished", "succeeded"),
    ]


def test_kafka_killed_mid_flow_and_down_a_while_loses_nothing_and_the_api_keeps_accepting(
    api, publisher, reader, session_factory
):
    """SIGKILL the broker while the publisher is sending, keep commands
    coming while it is down, then start it: duplicates allowed, gaps never."""
    orders: list[str] = []

    def traffic() -> None:
        for _ in range(8):
            order_id = api.create_order()
            orders.append(order_id)
            api.apply(order_id, "pay")

    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        deadline = time.monotonic() + 30
        while len(orders) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(int((stack.ROOT / ".local" / "kafka" / "kafka.pid").read_text()), signal.SIGKILL)
        sender.join(timeout=120)  # accepted and applied while Kafka is gone
        assert not sender.is_alive() and len(orders) == 8
        time.sleep(2)  # the publisher has tried and failed meanwhile
        assert outbox_count(session_factory) > 0
    finally:
        subprocess.run([SERVICES, "start", "kafka"], check=True, timeout=300)
    all_arrived(reader, session_factory, orders, timeout=120)


@pytest.mark.parametrize("point", ["stream.before_ack", "stream.after_send"])
def test_a_publisher_killed_mid_round_never_loses_an_event(api, publisher, reader, session_factory, point):
    """Killed after producing, before the acks (the events may or may not have
    left), or after the acks, before deleting them (they have): the next
    publisher sends them again. Duplicates, never a gap."""
    stack.stop(publisher)
    doomed = stack.start_stream_publisher("stream-doomed", ORDERLY_FAULTS=f"{point}=exit")
    order_id = api.create_order()
    assert doomed.wait(timeout=60) == 70  # died mid-round, its events still in the outbox
    assert outbox_count(session_factory) > 0
    replacement = stack.start_stream_publisher("stream-replacement")
    try:
        all_arrived(reader, session_factory, [order_id])
        if point == "stream.after_send":  # the doomed round's copies came first; they go again
            reader.read_until(lambda _m: len(reader.of_order(order_id)) >= 4, timeout=30)
            copies = [m["id"] for m in reader.of_order(order_id)]
            assert len(copies) == 4 and len(set(copies)) == 2, copies
        deadline = time.monotonic() + 15  # the replacement's delete commits just after Kafka's acks
        while outbox_count(session_factory) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert outbox_count(session_factory) == 0
    finally:
        stack.stop(replacement)


def test_the_example_consumer_and_the_cli_tail_read_an_order_from_the_stream(api, publisher, reader, session_factory):
    order_id = api.create_order()
    all_arrived(reader, session_factory, [order_id])
    env = stack.process_env(EVENT_STREAM_TOPIC=reader.topic, CONSUMER_GROUP=f"example-{order_id}")
    example = subprocess.Popen([stack.BIN / "python", stack.ROOT / "examples" / "order_events_consumer.py"],
                               cwd=stack.ROOT, env=env, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wanted = f"order {order_id} is now pending (version 1)"
        deadline = time.monotonic() + 60
        assert example.stdout is not None
        for line in example.stdout:  # bounded by the deadline and the kill below
            if wanted in line or time.monotonic() > deadline:
                break
        assert wanted in line
    finally:
        example.terminate()
        example.wait(timeout=30)
    command = [stack.ROOT / "orderly", "events", "tail", "--from-beginning", "--order", order_id, "--limit", "2",
               "--idle-seconds", "20"]  # fmt: skip
    tail = subprocess.run(command, cwd=stack.ROOT, env=stack.process_env(), capture_output=True, text=True, timeout=120)
    assert tail.returncode == 0, tail.stderr
    assert [json.loads(line)["type"] for line in tail.stdout.splitlines()] == ["order.status_changed", "job.finished"]
