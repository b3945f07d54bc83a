"""One round of the stream publisher: the oldest events of the outbox to
Kafka, then out of the outbox.

In one transaction: take the publisher lock (one publisher at a time, so
each order's events leave in order), lock the oldest events in seq order,
produce them all with the idempotent producer, wait until Kafka acknowledged
every one, delete them, commit. If Kafka does not acknowledge them all in
time, or the process dies anywhere before the commit, the events stay and go
again next round: duplicates are possible (consumers de-duplicate on the
event id), gaps are not, and one order's events never overtake each other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, Message, Producer

from infra.faults import fault_point
from stream import messages
from stream.unit_of_work import StreamUnitOfWork
from telemetry import metrics

log = logging.getLogger(__name__)


@dataclass
class Round:
    published: int = 0
    standby: bool = False  # another publisher holds the lock
    errors: list[str] = field(default_factory=list)


def publish_round(uow: StreamUnitOfWork, producer: Producer, topic: str, limit: int, ack_timeout: float) -> Round:
    result = Round()
    with uow:
        if not uow.stream.take_publisher_lock():
            result.standby = True
            return result
        rows = uow.stream.oldest(limit)
        if not rows:
            return result

        def delivered(error: KafkaError | None, _message: Message) -> None:
            if error is not None:
                result.errors.append(str(error))

        for row in rows:
            producer.produce(topic, key=messages.key(row), value=messages.value(row), headers=messages.headers(row),
                             on_delivery=delivered)  # fmt: skip
            producer.poll(0)  # serve delivery callbacks; a full local queue raises BufferError
        fault_point("stream.before_ack")  # sent (perhaps only buffered), not acknowledged
        unacknowledged = producer.flush(ack_timeout)
        fault_point("stream.after_send")  # acknowledged, still in the outbox
        if unacknowledged or result.errors:
            metrics.STREAM_ERRORS.inc(len(result.errors) or unacknowledged)
            log.warning("Kafka acknowledged %d of %d events (%s): they go again next round",
                        len(rows) - unacknowledged - len(result.errors), len(rows),
                        "; ".join(sorted(set(result.errors)))[:500] or "timeout")  # fmt: skip
            return result  # leaving the block rolls back: every event stays
        uow.stream.delete([row.seq for row in rows])
        uow.commit()
    result.published = len(rows)
    metrics.STREAM_PUBLISHED.inc(len(rows))
    return result


def record_backlog(uow: StreamUnitOfWork) -> tuple[int, float]:
    with uow:
        count, age = uow.stream.backlog()
    metrics.STREAM_BACKLOG.set(count)
    metrics.STREAM_OLDEST_AGE.set(age)
    return count, age
