"""Publishing job messages off the request path: one thread per API process
(a greenlet under gunicorn's gevent workers).

An accepted command is a committed `queued` job: that row is the promise, and
the relay republishes any job whose message never arrived. So the API answers
`202` as soon as the job is committed, and this thread publishes the message
(with publisher confirms) right after: every message waiting at that moment
in one batch, with one wait for the broker's confirms (infra/batch_sender.py). A request never waits for RabbitMQ:
not for a confirm (a few milliseconds, as RabbitMQ writes persistent messages
to disk in batches), not for a broker that blocks its publishers (memory or
disk alarm), not for one that is down.

What replaces the wait is an overload signal, checked before a command is
accepted (`refusal()`): new commands are refused with `503` + `Retry-After`,
and nothing is committed for them, while
- RabbitMQ refused a message because the command queue is at its length
  limit (for FULL_QUEUE_SECONDS after the refusal; the refused job stays
  queued and the relay publishes it later),
- a message has been waiting for over STALL_SECONDS (the broker is blocked,
  down or slow), or
- MAX_PENDING messages are waiting.

If the process dies with messages waiting, their jobs stay `queued` and the
relay publishes them 10 s later; at exit the thread gets a moment to finish.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable

from infra.batch_sender import BatchSender
from infra.errors import QueueFull
from infra.messaging import JobMessage
from infra.process_thread import ProcessThread

log = logging.getLogger(__name__)


class BackgroundPublisher:
    MAX_BATCH = 200
    MAX_PENDING = 1000
    STALL_SECONDS = 1.0
    FULL_QUEUE_SECONDS = 5.0
    EXIT_FLUSH_SECONDS = 2.0

    def __init__(self, publish: Callable[[list[JobMessage]], list[uuid.UUID]]) -> None:
        """`publish` sends one message per job and waits for their confirms;
        it returns the jobs whose message the broker refused (the queue's
        length limit) and raises when it could not publish the batch."""
        self._publish = publish
        self._waiting: deque[tuple[JobMessage, float]] = deque()
        self._in_flight_since: float | None = None
        self._refuse_until = 0.0
        self._wake = threading.Condition()
        # Started in the process that publishes, on first use (infra/process_thread.py).
        self._thread = ProcessThread("job-publisher", self._run, on_start=self._flush_at_exit)

    def __call__(self, message: JobMessage) -> None:
        """Queue the job's message; returns at once."""
        self._thread.ensure_started()
        with self._wake:
            self._waiting.append((message, time.monotonic()))
            self._wake.notify()

    def refusal(self) -> str | None:
        """Why new commands should be refused right now, or None."""
        now = time.monotonic()
        if now < self._refuse_until:
            return "the command queue is full"
        if len(self._waiting) >= self.MAX_PENDING:
            return "too many commands are waiting to be published"
        oldest = self._in_flight_since or (self._waiting[0][1] if self._waiting else None)
        if oldest is not None and now - oldest > self.STALL_SECONDS:
            return "the message broker is not taking commands"
        return None

    def pending(self) -> int:
        return len(self._waiting) + (self._in_flight_since is not None)

    def _flush_at_exit(self) -> None:
        atexit.register(self.flush, self.EXIT_FLUSH_SECONDS)

    def flush(self, timeout: float) -> bool:
        """Wait until every queued message is published; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self.pending()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._waiting:
                    self._wake.wait()
                self._in_flight_since = self._waiting[0][1]
                count = min(len(self._waiting), self.MAX_BATCH)
                batch = [self._waiting.popleft()[0] for _ in range(count)]
            try:
                refused = self._publish(batch)
                if refused:
                    self._refuse_until = time.monotonic() + self.FULL_QUEUE_SECONDS
                    log.warning("the command queue is full: %d jobs left for the relay (%s); refusing commands",
                                len(refused), ", ".join(map(str, refused)))  # fmt: skip
            except Exception:
                log.warning("publishing %d jobs failed, left for the relay: %s", len(batch),
                            ", ".join(str(message.id) for message in batch), exc_info=True)  # fmt: skip
            finally:
                self._in_flight_since = None


class HeldMessages:
    """A request's messages, held until it releases them: a request that will
    wait on its job subscribes to the job's wake-up before the message goes
    out (orders/waits.py). Not thread-safe: one per request."""

    def __init__(self, publish: Callable[[JobMessage], None]) -> None:
        self._publish = publish
        self._held: list[JobMessage] = []

    def __call__(self, message: JobMessage) -> None:
        self._held.append(message)

    def holds(self, job_id: uuid.UUID) -> bool:
        return any(message.id == job_id for message in self._held)

    def release(self) -> None:
        """Publish what is held (at most once: a second call finds nothing).
        Never raises: like the accept's own hand-over, a failure leaves the
        committed job to the relay."""
        held, self._held = self._held, []
        for message in held:
            try:
                self._publish(message)
            except Exception:
                log.warning("job %s: publish failed, left for the relay", message.id, exc_info=True)


class DirectPublisher:
    """Publishes at once and waits for the broker's confirm: for processes
    whose caller may wait (the relay's rounds, the operator CLI). Thread-safe."""

    def __init__(self, send: BatchSender) -> None:
        self._send = send
        self._lock = threading.Lock()

    def publish(self, messages: list[JobMessage]) -> list[uuid.UUID]:
        """Publish every message, one confirm wait for all: the jobs the broker
        refused (queue full). Raises when the batch was not confirmed in time."""
        with self._lock:
            return self._send(messages)

    def __call__(self, message: JobMessage) -> None:
        """Publish one message; QueueFull if the broker refused it."""
        if self.publish([message]):
            raise QueueFull(str(message.id))

    def close(self) -> None:
        with self._lock:
            self._send.close()
