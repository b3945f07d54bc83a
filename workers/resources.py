"""What a worker process uses, built once, lazily: after the prefork fork,
so no connection is shared between processes."""

from __future__ import annotations

from functools import cache

import config
from infra.bootstrap import Clients, Role, build
from orders.cache import OrderCache
from orders.finished import Finished


@cache
def clients() -> Clients:
    return build(config.current(), Role.WORKER)


@cache
def order_cache() -> OrderCache:
    return OrderCache.from_clients(clients())


@cache
def finished() -> Finished:
    """Counts each finished job and wakes the API requests waiting on it."""
    return Finished.over_redis(clients())
