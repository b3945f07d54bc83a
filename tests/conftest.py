"""Fixtures the integration and fault-injection tests share: the test servers'
settings and clients (scripts/services.sh starts the servers)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.orm import Session, sessionmaker

os.environ["ORDERLY_TESTING"] = "1"

import config
from infra.db import make_engine, make_session_factory
from infra.redis_client import make_redis
from orders.cache import OrderCache


@pytest.fixture(scope="session")
def settings() -> config.Settings:
    return config.Settings.from_env(testing=True)


@pytest.fixture(scope="session")
def session_factory(settings: config.Settings) -> sessionmaker[Session]:
    return make_session_factory(make_engine(settings.database_url))


@pytest.fixture
def order_cache(settings: config.Settings) -> OrderCache:
    """A fresh client each test: no skip window left over from an earlier outage."""
    return OrderCache(make_redis(settings.cache_redis_url), settings.cache_ttl_seconds)
