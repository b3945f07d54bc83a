"""The batch sender's bookkeeping of RabbitMQ's confirms (the broker itself is
exercised by tests/integration/test_delivery.py: a full queue's nacks, alarms)."""

from __future__ import annotations

from infra.batch_sender import BatchSender


def sender_with(published: int) -> BatchSender:
    sender = BatchSender.__new__(BatchSender)
    sender._published, sender._confirmed, sender._single, sender._nacked = published, 0, set(), set()
    return sender


def test_single_acks_out_of_order_confirm_only_a_gapless_prefix():
    sender = sender_with(4)
    sender._on_ack(2, False)
    sender._on_ack(4, False)
    assert sender._confirmed == 0
    sender._on_ack(1, False)
    assert sender._confirmed == 2
    sender._on_ack(3, False)
    assert sender._confirmed == 4
    assert not sender._nacked


def test_a_multiple_nack_refuses_every_unconfirmed_tag_up_to_it_but_not_those_acked():
    sender = sender_with(5)
    sender._on_ack(1, False)
    sender._on_ack(3, False)
    sender._on_nack(4, True)
    assert sender._confirmed == 4
    assert sender._nacked == {2, 4}
    sender._on_ack(5, True)
    assert sender._confirmed == 5
    assert sender._nacked == {2, 4}


def test_jobs_go_out_in_messages_of_at_most_the_configured_size_in_arrival_order():
    import uuid

    from infra.messaging import JobMessage, in_messages, task_label

    jobs = [JobMessage(uuid.uuid4(), "pay" if i % 3 else "ship") for i in range(70)]
    messages = in_messages(jobs, 32)
    assert [len(m) for m in messages] == [32, 32, 6]
    assert [job for message in messages for job in message] == jobs
    assert task_label(messages[0]) == "orderly.batch"
    assert task_label([jobs[1], jobs[2]]) == "orderly.pay"  # one command: named by it, as a single job is
    assert [len(m) for m in in_messages(jobs[:3], 1)] == [1, 1, 1]
