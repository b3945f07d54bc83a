"""Clients a worker process builds once, lazily (after the prefork fork)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import cache, partial

from sqlalchemy.orm import Session, sessionmaker

import config
from infra.db import make_engine, make_session_factory
from infra.redis_client import FailFast, make_redis
from orders.cache import OrderCache
from orders.waits import announce_finished


@cache
def session_factory() -> sessionmaker[Session]:
    return make_session_factory(
        make_engine(config.current().database_url, pool_size=2, application_name="orderly-worker")
    )


@cache
def job_announcer() -> Callable[[uuid.UUID], None]:
    """Wakes API requests waiting on a job (orders/waits.py); fails fast."""
    client = make_redis(config.current().redis_url)
    return partial(announce_finished, client, FailFast("job announcements"))


@cache
def order_cache() -> OrderCache:
    settings = config.current()
    return OrderCache(make_redis(settings.cache_redis_url), settings.cache_ttl_seconds)
