"""Fixtures the integration and fault-injection tests share: the test servers'
settings and clients (scripts/services.sh starts the servers)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

os.environ["ORDERLY_TESTING"] = "1"

import config
from infra.bootstrap import Clients, Role, build
from infra.publisher import DirectPublisher
from infra.redis_client import make_redis
from orders.cache import OrderCache
from orders.finished import Finished
from orders.unit_of_work import OrdersUnitOfWork


@pytest.fixture(scope="session")
def settings() -> config.Settings:
    return config.Settings.from_env(testing=True)


@pytest.fixture(scope="session")
def clients(settings: config.Settings) -> Iterator[Clients]:
    """The tests' own clients (infra/bootstrap.py, role `test`)."""
    built = build(settings, Role.TEST)
    yield built
    built.close()


@pytest.fixture(scope="session")
def session_factory(clients: Clients) -> sessionmaker[Session]:
    return clients.session_factory


@pytest.fixture
def orders_uow(session_factory: sessionmaker[Session]) -> OrdersUnitOfWork:
    """A unit of work over orders, for calling the use cases directly."""
    return OrdersUnitOfWork(session_factory)


@pytest.fixture(scope="session")
def publish(clients: Clients) -> DirectPublisher:
    """Publishes a job's message now, as the relay does."""
    return clients.publisher


@pytest.fixture(scope="session")
def finished(clients: Clients) -> Finished:
    """What the use cases do after a job finished: count it, wake its waiters."""
    return Finished.over_redis(clients)


@pytest.fixture
def order_cache(settings: config.Settings) -> OrderCache:
    """A fresh client each test: no skip window left over from an earlier outage."""
    return OrderCache(make_redis(settings.cache_redis_url), settings.cache_ttl_seconds)
