"""The one place that builds a process's clients: `build(settings, role)`.

Every process (the API, a worker, the relay, the webhook sender, the
operator CLI, the tests) gets its database engine, Redis clients and
publisher here, sized for what it does:

| role   | database pool (+ overflow)    | Redis                        | publishes job messages           |
| ------ | ----------------------------- | ---------------------------- | -------------------------------- |
| api    | 10 (+5) per gunicorn process  | state, cache, one subscriber | in the background, in batches    |
| worker | 2 (+5) per prefork process    | state (wake-ups), cache      | no                               |
| relay  | 1 (+5)                        | cache                        | at once, one confirm per round   |
| sender | WEBHOOK_CONCURRENCY + 1 (+5)  | none                         | no                               |
| cli    | 1 (+5)                        | state, cache                 | at once (`jobs retry`)           |
| test   | 5 (+5)                        | state, cache                 | at once                          |

One timeout policy for all: PostgreSQL connects within 5 s, waits at
most 5 s for a pooled connection, and every statement ends within 15 s
(infra/db.py); Redis answers within 250 ms with one retry, and after a
failure its users in the process skip it for 5 s (infra/redis_client.py);
a publish is confirmed within 3 s (infra/batch_sender.py).

Nothing is built until it is first used, so a process pays only for what
it touches: `./orderly jobs list` opens one database connection, and no
publisher, no Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from infra.batch_sender import BatchSender
from infra.db import make_autocommit_session_factory, make_engine, make_session_factory
from infra.publisher import BackgroundPublisher, DirectPublisher
from infra.redis_client import FailFast, make_redis, make_subscriber


class Role(StrEnum):
    API = "api"
    WORKER = "worker"
    RELAY = "relay"
    SENDER = "sender"
    STREAM = "stream"
    CLI = "cli"
    TEST = "test"


@dataclass(frozen=True)
class Policy:
    pool_size: int


def policy(role: Role, settings: Settings) -> Policy:
    """How `role` uses the servers (the table above)."""
    return {
        # A gevent process serves many requests at once; connections beyond
        # the pool (its overflow) are closed on return, and reopening one per
        # request costs PostgreSQL more than the request: 10 kept open.
        Role.API: Policy(pool_size=10),
        Role.WORKER: Policy(pool_size=2),  # one job at a time per process
        Role.RELAY: Policy(pool_size=1),  # one round at a time
        # The claims, and one per delivery thread (each records its outcome).
        Role.SENDER: Policy(pool_size=settings.webhook_concurrency + 1),
        Role.STREAM: Policy(pool_size=2),  # a round, and the backlog gauge between rounds
        Role.CLI: Policy(pool_size=1),
        Role.TEST: Policy(pool_size=5),
    }[role]


class Clients:
    """A process's connections to PostgreSQL, Redis and RabbitMQ, each built on first use."""

    def __init__(self, settings: Settings, role: Role) -> None:
        self.settings = settings
        self.role = role
        self.policy = policy(role, settings)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(
            self.settings.database_url, pool_size=self.policy.pool_size, application_name=f"orderly-{self.role}"
        )

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def autocommit_session_factory(self) -> sessionmaker[Session]:
        """For use cases of one statement: no BEGIN / COMMIT round trips."""
        return make_autocommit_session_factory(self.engine)

    @cached_property
    def redis(self) -> Redis:
        """Counters, key markers and job wake-ups: the Redis that never evicts."""
        return make_redis(self.settings.redis_url)

    @cached_property
    def redis_guard(self) -> FailFast:
        """Shared by every user of `redis` in this process: one failure, one skip window."""
        return FailFast("state Redis (API keys, rate limit, failed-auth throttle, tenant count, job wake-ups)")

    @cached_property
    def cache_redis(self) -> Redis:
        """The order cache's own Redis (volatile-lru)."""
        return make_redis(self.settings.cache_redis_url)

    @cached_property
    def cache_guard(self) -> FailFast:
        return FailFast("order cache")

    @cached_property
    def subscriber(self) -> Redis:
        """A client for one held pub/sub connection (job waits)."""
        return make_subscriber(self.settings.redis_url)

    @cached_property
    def publisher(self) -> DirectPublisher:
        """Publishes at once and waits for the confirm (the relay, the CLI, tests)."""
        return DirectPublisher(BatchSender.for_broker(self.settings.broker_url, self.settings.jobs_per_message))

    @cached_property
    def background_publisher(self) -> BackgroundPublisher:
        """Publishes off the request path, in batches (the API): a request never waits for RabbitMQ."""
        return BackgroundPublisher(BatchSender.for_broker(self.settings.broker_url, self.settings.jobs_per_message))

    def close(self) -> None:
        """Close what was opened (tests; a process that exits needs nothing)."""
        if "engine" in self.__dict__:
            self.engine.dispose()
        if "publisher" in self.__dict__:
            self.publisher.close()


def build(settings: Settings, role: Role) -> Clients:
    return Clients(settings, role)
