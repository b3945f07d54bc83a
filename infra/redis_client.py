"""Redis as an optional tier: clients that fail fast, and a guard that skips
Redis for a few seconds after a failure so a hung Redis costs one short
timeout, not one per request."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from telemetry import metrics

log = logging.getLogger(__name__)


def make_redis(url: str) -> redis.Redis:
    """A client that fails fast: sub-second timeouts, no retry storms."""
    return redis.Redis.from_url(
        url,
        socket_timeout=0.25,
        socket_connect_timeout=0.25,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=30,
    )


def make_subscriber(url: str) -> redis.Redis:
    """A client for a pub/sub connection held for good: no health-check PING
    may read from it behind the listener's back, and its reads wait for
    messages (the listener's own timeout bounds them)."""
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=5, health_check_interval=0)


class FailFast:
    """Remembers a recent Redis failure for the users of Redis that share it
    (`purpose` names them in the log). One guard per process and server means
    a hung Redis costs one timeout in all, not one per user."""

    SKIP_SECONDS = 5.0

    def __init__(self, purpose: str) -> None:
        self.purpose = purpose
        self.skip_until = 0.0
        metrics.REDIS_GUARD_TRIPS.labels(purpose)  # the series exists at 0
        metrics.REDIS_GUARD_OPEN_UNTIL.labels(purpose).set(0)

    def skipping(self) -> bool:
        return time.monotonic() < self.skip_until

    def trip(self, exc: Exception) -> None:
        self.skip_until = time.monotonic() + self.SKIP_SECONDS
        metrics.REDIS_GUARD_TRIPS.labels(self.purpose).inc()
        metrics.REDIS_GUARD_OPEN_UNTIL.labels(self.purpose).set(time.time() + self.SKIP_SECONDS)
        log.warning("redis unavailable, %s skipped for %ss: %s", self.purpose, self.SKIP_SECONDS, exc)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """fn's result, or None when Redis failed now or a few seconds ago."""
        if self.skipping():
            return None
        try:
            return fn(*args, **kwargs)
        except redis.RedisError as exc:
            self.trip(exc)
            return None
