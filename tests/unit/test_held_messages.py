"""A waiting request's held messages (infra/publisher.HeldMessages): each
goes out once, and a failing hand-over never turns an accepted command
into an error (the relay publishes its job later)."""

from __future__ import annotations

import uuid

import pytest

from infra.messaging import JobMessage
from infra.publisher import HeldMessages


def test_held_messages_go_out_once_on_release():
    sent: list[JobMessage] = []
    held = HeldMessages(sent.append)
    message = JobMessage(uuid.uuid4(), "create")
    held(message)
    assert held.holds(message.id) and not held.holds(uuid.uuid4())
    assert sent == []  # nothing before the release
    held.release()
    held.release()
    assert sent == [message]


def test_a_failing_hand_over_does_not_raise(caplog: pytest.LogCaptureFixture):
    def broken(_message: JobMessage) -> None:
        raise RuntimeError("publisher thread could not start")

    held = HeldMessages(broken)
    message = JobMessage(uuid.uuid4(), "pay")
    held(message)
    held.release()
    assert f"job {message.id}: publish failed, left for the relay" in caplog.text
