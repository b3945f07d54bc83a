"""Clients a worker process builds once, lazily (after the prefork fork)."""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import Session, sessionmaker

import config
from models.db import make_engine, make_session_factory
from services.cache import OrderCache
from services.redis_client import make_redis


@cache
def session_factory() -> sessionmaker[Session]:
    return make_session_factory(
        make_engine(config.current().database_url, pool_size=2, application_name="orderly-worker")
    )


@cache
def order_cache() -> OrderCache:
    settings = config.current()
    return OrderCache(make_redis(settings.cache_redis_url), settings.cache_ttl_seconds)
