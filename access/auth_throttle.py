"""Throttling failed authentication per client address, before any key lookup.

Every 401 counts against the client's address: one Redis INCR, shared by all
API processes, in a fixed window. Past LIMIT failures in a window the address
is refused with 429 + Retry-After until the window ends, for every request
that does not carry a key this process already holds as valid: a client that
has proven a key keeps working (a shared NAT address is not locked out by a
neighbour), an address guessing keys costs nothing but this check.

The refusal is decided from process memory (no I/O on the request path).
When Redis cannot be reached the failures are counted in process memory
instead: each API process then throttles on its own count, so the limit is
per process until Redis is back.

The first failure past the limit in a window is reported (`on_burst`) so it
can be written to the audit log: one record per address and window.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import redis

from infra.redis_client import FailFast

LIMIT = 20
WINDOW_SECONDS = 60
MAX_ADDRESSES = 100_000  # memory bound of the per-process tables


class FailedAuthThrottle:
    def __init__(
        self,
        client: redis.Redis,
        guard: FailFast,
        on_burst: Callable[[str, int], None],
        limit: int = LIMIT,
        window_seconds: int = WINDOW_SECONDS,
        prefix: str = "orderly:auth-failures:",
    ) -> None:
        self._client = client
        self._redis = guard
        self._on_burst = on_burst
        self._limit = limit
        self._window = window_seconds
        self._prefix = prefix
        self._blocked: OrderedDict[str, float] = OrderedDict()  # address -> blocked until (monotonic)
        self._local: OrderedDict[tuple[str, int], int] = OrderedDict()  # (address, window) -> failures
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> int | None:
        """Seconds until the address may try again, or None: memory only."""
        until = self._blocked.get(address)
        if until is None:
            return None
        left = until - time.monotonic()
        if left <= 0:
            with self._lock:
                self._blocked.pop(address, None)
            return None
        return max(1, math.ceil(left))

    def failed(self, address: str) -> int | None:
        """Count one failed authentication; the Retry-After if the address is
        now over the limit, else None."""
        window = int(time.time()) // self._window
        count = self._count(address, window)
        if count <= self._limit:
            return None
        seconds_left = (window + 1) * self._window - time.time()
        with self._lock:
            self._remember(self._blocked, address, time.monotonic() + seconds_left)
        if count == self._limit + 1:
            self._on_burst(address, count)
        return max(1, math.ceil(seconds_left))

    def _count(self, address: str, window: int) -> int:
        key = f"{self._prefix}{window}:{address}"
        counted = self._redis.call(self._incr, key)
        if counted is not None:
            return counted
        with self._lock:  # Redis unreachable: this process's own count
            count = self._local.get((address, window), 0) + 1
            self._remember(self._local, (address, window), count)
            return count

    def _incr(self, key: str) -> int:
        pipe = self._client.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, self._window + 1)
        return int(pipe.execute()[0])

    @staticmethod
    def _remember(table: OrderedDict[Any, Any], key: object, value: object) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > MAX_ADDRESSES:
            table.popitem(last=False)
