"""A per-API-key rate limit, counted in Redis with the `limits` library's
sliding-window counter (shared by every API process).

It fails open: when Redis cannot be reached the request goes through, and the
limiter is skipped for a few seconds so a hung Redis costs one short timeout.
Refusing every request because the cache tier is down would turn a Redis
outage into a full outage; the per-tenant cap on unfinished jobs (which falls
back to PostgreSQL, orders/backlog.py) and the command queue's length limit
still bound the damage.
"""

from __future__ import annotations

import math
import time

import redis
from limits import parse
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from infra.redis_client import FailFast


class KeyRateLimiter:
    def __init__(self, client: redis.Redis, rate: str, guard: FailFast | None = None) -> None:
        """`rate` in the limits notation, e.g. "600/minute". The counters go
        through `client`'s connections (and so its timeouts)."""
        self._item = parse(rate)
        # With a connection pool, limits only reads the URL's scheme.
        storage = RedisStorage(
            "redis://", connection_pool=client.connection_pool, key_prefix="orderly:ratelimit", wrap_exceptions=True
        )
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._redis = guard or FailFast("rate limiter")

    def retry_after(self, key_id: str) -> int | None:
        """Count one request for the key: None if allowed, else the seconds to wait."""
        if self._redis.skipping():
            return None
        try:
            if self._limiter.hit(self._item, key_id):
                return None
            reset_at = self._limiter.get_window_stats(self._item, key_id).reset_time
        except StorageError as exc:  # limits wraps the client's errors
            self._redis.trip(exc)
            return None
        return max(1, math.ceil(reset_at - time.time()))
