"""Waiting on a job without polling: `GET /api/v1/jobs/{id}?wait=N`.

The worker publishes on Redis channel `orderly:job:<id>` after the commit
that finishes the job (`announce_finished`); the message is the finished
job as a read shows it (or just "finished" when the worker did not have it
at hand). Each API process keeps one subscriber connection (`JobWaits`), on
which it subscribes to the channels of the jobs its requests wait on; a
message wakes them.

No busy loop, and at most one database read per wait: the request
subscribes, waits until Redis has confirmed the subscription, reads the job
(finished: answer), else waits for the message, which holds the finished
job (a read only when it does not, or at the deadline). Because the
subscription is confirmed before that read, a job that finishes in between
cannot be missed: either the read sees it finished, or its commit, and so
its message, comes after the subscription. A `Prefer: wait` POST reads
nothing: it subscribes before its job's message is published, so the job
cannot finish before the subscription.
When Redis is down a wait simply ends at its deadline with the job as it is
(a poll with a delay), never with an error; when the subscriber reconnects
(within a second of Redis coming back), the requests that waited meanwhile
are woken to read their job once more, finished or not.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import redis

from infra.errors import RateLimited
from infra.faults import fault_point
from infra.process_thread import ProcessThread
from infra.redis_client import FailFast
from telemetry import metrics

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "orderly:job:"
MAX_WAIT_SECONDS = 20
SUBSCRIBE_CONFIRM_SECONDS = 1.0


def channel(job_id: uuid.UUID) -> str:
    return f"{CHANNEL_PREFIX}{job_id}"


# A finished job's id, and the job as a read shows it (None: not at hand).
Announcement = tuple[uuid.UUID, dict[str, Any] | None]


def announce_finished(client: redis.Redis, guard: FailFast, finished: Sequence[Announcement]) -> None:
    """After the commit that finished the jobs (the worker's, or a cancel's):
    wake whoever waits on them (nobody, usually), one round trip for all."""

    def publish() -> None:
        pipe = client.pipeline(transaction=False)
        for job_id, view in finished:
            pipe.publish(channel(job_id), "finished" if view is None else json.dumps(view))
        pipe.execute()

    guard.call(publish)


def _announced_view(job_id: str, data: object) -> dict[str, Any] | None:
    """The finished job a message carries, if it is one and names this job."""
    try:
        view = json.loads(data)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None  # "finished", from a worker that had no view (or an older one)
    return view if isinstance(view, dict) and view.get("id") == job_id else None


class _Channel:
    def __init__(self) -> None:
        self.waiters = 0
        self.subscribed = threading.Event()  # Redis confirmed the subscription
        self.wake = threading.Event()
        self.announced = False  # the worker's message came (else a wake means: read again)
        self.view: dict[str, Any] | None = None  # the finished job the message carried
        self.recheck = False  # subscribed by the listener on (re)connect: read again once confirmed


class JobWaits:
    """One per API process: a subscriber connection shared by every waiting
    request, and a bound on the waits each API key may hold at once."""

    def __init__(self, subscriber: redis.Redis, max_per_key: int) -> None:
        """`subscriber`: a client of its own (infra/redis_client.make_subscriber),
        whose one connection is held for good."""
        self._client = subscriber
        self._max_per_key = max_per_key
        self._lock = threading.Lock()
        self._channels: dict[str, _Channel] = {}
        self._per_key: dict[str, int] = defaultdict(int)
        self._pubsub: redis.client.PubSub | None = None
        self._broken = False  # a (un)subscribe failed: the listener reconnects
        self._listener = ProcessThread("job-waits", self._listen, on_start=self._forget_parents_subscriber)

    def wait(
        self,
        key_id: str,
        job_id: uuid.UUID,
        seconds: float,
        read: Callable[[], bool],
        take: Callable[[dict[str, Any]], bool],
        publish: Callable[[], None] | None = None,
    ) -> None:
        """Return once the job is finished, or after `seconds`.

        `read()` reads the job (and keeps it for the answer), `take(view)`
        keeps the finished job a wake-up carried; both say whether it is
        finished. `read` is called at most once when the wake-up carries the
        job (once more each time the subscriber reconnects during the wait).
        `publish`, for a job just accepted: sends its message once the
        subscription is confirmed; the job cannot have finished before
        that, so it is not read first. Raises RateLimited beyond the key's
        concurrent waits (then `publish` is not called: the caller must)."""
        self._hold(key_id)
        name = channel(job_id)
        metrics.JOB_WAITS_IN_PROGRESS.inc()
        try:
            fault_point("wait.before_subscribe")
            entry = self._subscribe(name)
            deadline = time.monotonic() + seconds
            confirmed = False
            if self._pubsub is not None:  # else Redis is down: no message will come
                confirmed = entry.subscribed.wait(min(SUBSCRIBE_CONFIRM_SECONDS, seconds))
            fault_point("wait.after_subscribe")
            if publish is not None:
                publish()
            finished = False if publish is not None and confirmed else read()
            while not finished and entry.wake.wait(max(0.0, deadline - time.monotonic())):
                entry.wake.clear()
                if entry.announced:
                    finished = take(entry.view) if entry.view is not None else read()
                    break
                finished = read()
                # Woken after the subscriber (re)connected, not by the worker:
                # the job may have finished unheard; now subscribed, keep waiting.
            if not finished and time.monotonic() >= deadline:
                finished = read()
            metrics.JOB_WAITS.labels("finished" if finished else "deadline").inc()
        finally:
            metrics.JOB_WAITS_IN_PROGRESS.dec()
            self._unsubscribe(name)
            self._release(key_id)

    # ------------------------------------------------------------ bookkeeping
    def _hold(self, key_id: str) -> None:
        with self._lock:
            if self._per_key[key_id] >= self._max_per_key:
                metrics.JOB_WAITS.labels("refused").inc()
                raise RateLimited(f"at most {self._max_per_key} waits at once per API key", retry_after=1)
            self._per_key[key_id] += 1

    def _release(self, key_id: str) -> None:
        with self._lock:
            self._per_key[key_id] -= 1
            if not self._per_key[key_id]:
                del self._per_key[key_id]

    def _subscribe(self, name: str) -> _Channel:
        self._listener.ensure_started()
        with self._lock:
            entry = self._channels.get(name)
            if entry is None:
                entry = self._channels[name] = _Channel()
                self._send("subscribe", name)
            entry.waiters += 1
            return entry

    def _unsubscribe(self, name: str) -> None:
        with self._lock:
            entry = self._channels[name]
            entry.waiters -= 1
            if not entry.waiters:
                del self._channels[name]
                self._send("unsubscribe", name)

    def _send(self, command: str, name: str) -> None:
        """Under the lock. A failure leaves the listener to reconnect and resubscribe."""
        pubsub = self._pubsub
        if pubsub is None:
            return
        try:
            getattr(pubsub, command)(name)
        except (redis.RedisError, OSError) as exc:
            log.warning("job waits: %s %s failed: %s", command, name, exc)
            self._broken = True

    # --------------------------------------------------------------- listener
    def _forget_parents_subscriber(self) -> None:
        self._pubsub = None  # a copy of the parent's, made by the fork

    def _listen(self) -> None:
        backoff = 0.1
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=False)
            try:
                with self._lock:
                    self._broken = False
                    names = list(self._channels)
                    if names:  # after a reconnect: every channel a request still waits on
                        pubsub.subscribe(*names)
                        # Their jobs may have finished while nobody listened:
                        # once Redis confirms, they read once more.
                        for name in names:
                            self._channels[name].recheck = True
                    self._pubsub = pubsub
                while not self._broken:
                    message = pubsub.get_message(timeout=1.0)  # sleeps while nothing is subscribed
                    if message is not None:
                        self._deliver(message)
                        backoff = 0.1
                raise ConnectionError("a subscribe or unsubscribe failed")
            except (redis.RedisError, OSError, ValueError) as exc:
                with self._lock:
                    self._pubsub = None
                    for entry in self._channels.values():
                        entry.subscribed.clear()
                log.warning("job waits: Redis subscriber lost (%s); waits end at their deadline meanwhile", exc)
                pubsub.close()
                time.sleep(backoff)
                backoff = min(backoff * 2, 1.0)

    def _deliver(self, message: dict[str, object]) -> None:
        name = message.get("channel")
        if isinstance(name, bytes):
            name = name.decode()
        with self._lock:
            entry = self._channels.get(str(name))
        if entry is None:
            return
        if message.get("type") == "subscribe":
            entry.subscribed.set()
            if entry.recheck:
                entry.recheck = False
                entry.wake.set()
        elif message.get("type") == "message":
            entry.view = _announced_view(str(name)[len(CHANNEL_PREFIX) :], message.get("data"))
            entry.announced = True
            entry.wake.set()
