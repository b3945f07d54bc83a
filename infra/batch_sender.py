"""Publishing job messages in batches, with one confirm wait per batch.

Celery's `apply_async` with `confirm_publish` waits for RabbitMQ's confirm
after every message, and RabbitMQ confirms a persistent message only once it
is on disk (it syncs in batches, every few milliseconds). One message per
wait caps an API process at a few hundred messages a second and spends most
of its publishing CPU in Celery's generic send path.

`BatchSender` writes every waiting job of a batch on one confirm-mode
channel, `per_message` jobs to a message at most (a worker applies a
message's jobs in one transaction), then waits once for the broker's acks
and nacks of all of them. The messages are Celery's own task messages
(protocol 2, built by `app.amqp.as_task_v2`). A nack is RabbitMQ's
refusal of a message into a queue at its length limit (`overflow:
reject-publish`). Anything else (no connection, no confirm within the
timeout) raises: the whole batch is then left to the relay, which publishes
every job still `queued` after a while; a message that did arrive is applied
once anyway (the worker is idempotent per job).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any

import amqp.exceptions
import kombu
from celery import Celery
from kombu import Producer, Queue

from infra.messaging import APPLY_JOBS_TASK, JobMessage, in_messages, task_label

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT_SECONDS = 3.0
CONNECT_TIMEOUT_SECONDS = 3.0


class BatchSender:
    """Not thread-safe: one per publishing thread (infra/publisher.py)."""

    def __init__(self, app: Celery, task_name: str, queue: Queue, per_message: int = 1) -> None:
        """`per_message`: jobs one message carries at most (a batch of jobs
        goes out as few messages as that allows)."""
        self._app = app
        self._task_name = task_name
        self._queue = queue
        self._per_message = per_message
        self._connection: kombu.Connection | None = None
        self._producer: Producer | None = None
        self._published = 0  # delivery tags on the channel: 1, 2, ... per message
        self._confirmed = 0  # every tag up to this one is acked or nacked
        self._single: set[int] = set()  # tags confirmed one by one, above _confirmed
        self._nacked: set[int] = set()

    @classmethod
    def for_broker(cls, broker_url: str, per_message: int, queue: Queue | None = None) -> BatchSender:
        """A sender of job messages to the command queue of celeryconfig.py
        (or to `queue`).

        Its Celery app only builds messages (the workers' app, with the
        tasks, is workers/celery_app.py): publishing needs no import of the
        worker's code."""
        app = Celery("orderly-publisher", set_as_current=False)
        app.config_from_object("celeryconfig")
        app.conf.broker_url = broker_url
        return cls(app, APPLY_JOBS_TASK, queue or app.conf.task_queues[0], per_message)

    def __call__(self, jobs: Sequence[JobMessage]) -> list[uuid.UUID]:
        """Publish one message per job; returns the jobs the broker refused
        (queue full). Raises when the batch was not confirmed in time."""
        reused = self._producer is not None
        try:
            return self._send(jobs)
        except (ConnectionError, amqp.exceptions.RecoverableConnectionError) as error:
            self.close()
            if not reused:
                raise
            # The connection was old and is gone (a broker restart, say): once
            # more on a new one, rather than leaving the batch to the relay.
            log.info("publisher connection lost (%s); publishing %d jobs on a new one", error, len(jobs))
            try:
                return self._send(jobs)
            except Exception:
                self.close()
                raise
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.collect()  # drops the socket without a handshake that could block
        self._connection = self._producer = None

    # ----------------------------------------------------------------- internals
    def _send(self, jobs: Sequence[JobMessage]) -> list[uuid.UUID]:
        producer = self._producer or self._connect()
        first_tag = self._published + 1
        messages = in_messages(jobs, self._per_message)
        for batch in messages:
            # The task id is the first job's: a message of one job is named by it, as before.
            headers, properties, body, _ = self._app.amqp.as_task_v2(
                str(batch[0].id), self._task_name, args=[[str(job.id) for job in batch]], kwargs={},
                shadow=task_label(batch),
            )  # fmt: skip
            producer.publish(
                body,
                serializer="json",
                headers=headers,
                exchange=self._queue.exchange,
                routing_key=self._queue.routing_key,
                delivery_mode=2,  # persistent
                retry=False,
                **properties,
            )
            self._published += 1
        self._wait_for_confirms(self._published)
        refused = [job.id for tag, batch in enumerate(messages, first_tag) if tag in self._nacked for job in batch]
        self._nacked.difference_update(range(first_tag, self._published + 1))
        return refused

    def _connect(self) -> Producer:
        connection = kombu.Connection(
            self._app.conf.broker_url,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            heartbeat=0,  # no thread of ours would send them; a dead link shows as a missing confirm
            transport_options={"read_timeout": CONFIRM_TIMEOUT_SECONDS, "write_timeout": CONFIRM_TIMEOUT_SECONDS},
        )
        channel = connection.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        self._queue(channel).declare()  # idempotent; the exchange may not exist yet on a new broker
        self._connection, self._producer = connection, Producer(channel, auto_declare=False)
        self._published = self._confirmed = 0
        self._single.clear()
        self._nacked.clear()
        return self._producer

    def _wait_for_confirms(self, last_tag: int) -> None:
        assert self._connection is not None
        deadline = time.monotonic() + CONFIRM_TIMEOUT_SECONDS
        while self._confirmed < last_tag:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no confirm from the broker within {CONFIRM_TIMEOUT_SECONDS}s")
            self._connection.drain_events(timeout=left)

    def _on_ack(self, delivery_tag: int, multiple: bool, *_: Any) -> None:
        self._confirm(delivery_tag, multiple)

    def _on_nack(self, delivery_tag: int, multiple: bool, *_: Any) -> None:
        first = self._confirmed + 1 if multiple else delivery_tag
        self._nacked.update(tag for tag in range(first, delivery_tag + 1) if tag not in self._single)
        self._confirm(delivery_tag, multiple)

    def _confirm(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._confirmed = max(self._confirmed, delivery_tag)
        else:
            self._single.add(delivery_tag)
        while self._confirmed + 1 in self._single:
            self._confirmed += 1
        self._single = {tag for tag in self._single if tag > self._confirmed}
