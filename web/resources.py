"""The clients one API process shares: database, cache, broker publisher."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import redis
from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import config
from access import audit
from access.auth_throttle import FailedAuthThrottle
from access.key_verifier import KeyVerifier
from access.rate_limit import KeyRateLimiter
from config import Settings
from infra.batch_sender import BatchSender
from infra.db import make_autocommit_session_factory, make_engine, make_session_factory
from infra.messaging import JobMessage
from infra.publisher import BackgroundPublisher
from infra.redis_client import FailFast, make_redis
from infra.unit_of_work import UnitOfWork
from orders.backlog import TenantBacklog
from orders.cache import OrderCache
from orders.waits import JobWaits, announce_finished
from webhooks.secrets import SecretBox
from webhooks.urls import UrlPolicy


@dataclass
class Resources:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    # For use cases of one statement: no BEGIN / COMMIT round trips.
    autocommit_session_factory: sessionmaker[Session]
    redis: redis.Redis  # counters and markers (never evicted); the cache has its own
    cache: OrderCache
    publisher: BackgroundPublisher
    rate_limiter: KeyRateLimiter
    backlog: TenantBacklog
    keys: KeyVerifier
    auth_throttle: FailedAuthThrottle
    job_waits: JobWaits
    announce_finished: Callable[[uuid.UUID], None]  # wakes the requests waiting on a job
    webhook_secrets: SecretBox
    webhook_urls: UrlPolicy

    def autocommit_uow(self) -> UnitOfWork:
        """For use cases whose every write is one atomic statement."""
        return UnitOfWork(self.autocommit_session_factory)


def build(settings: Settings) -> Resources:
    # A gevent process serves many requests at once; connections beyond the
    # pool's size (its overflow) are closed on return, and reopening one per
    # request costs PostgreSQL more than the request. 10 kept open per process.
    engine = make_engine(settings.database_url, pool_size=10, application_name="orderly-api")
    client = make_redis(settings.redis_url)
    # The key check, the rate limiter, the failed-auth throttle and the tenant
    # count share one Redis: once it fails, all of them skip it for a while.
    redis_guard = FailFast("API keys, rate limiter, failed-auth throttle and tenant count")
    cache_client = make_redis(settings.cache_redis_url)
    autocommit = make_autocommit_session_factory(engine)
    return Resources(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        autocommit_session_factory=autocommit,
        redis=client,
        cache=OrderCache(cache_client, settings.cache_ttl_seconds, guard=FailFast("order cache")),
        publisher=BackgroundPublisher(batch_sender()),
        rate_limiter=KeyRateLimiter(settings.redis_url, settings.rate_limit_per_key, guard=redis_guard),
        backlog=TenantBacklog(client, settings.tenant_max_unfinished_jobs, guard=redis_guard),
        keys=KeyVerifier(autocommit, client, redis_guard),
        auth_throttle=FailedAuthThrottle(
            client,
            redis_guard,
            on_burst=partial(record_failed_auth_burst, autocommit),
            limit=settings.failed_auth_limit,
        ),
        job_waits=JobWaits(settings.redis_url, settings.max_waits_per_key),
        announce_finished=partial(announce_finished, client, FailFast("job announcements")),
        webhook_secrets=SecretBox(settings.webhook_secrets_key),
        webhook_urls=UrlPolicy.from_settings(
            settings.webhook_allowed_networks, settings.webhook_allow_http, testing=config.testing()
        ),
    )


def record_failed_auth_burst(session_factory: sessionmaker[Session], address: str, failures: int) -> None:
    """The audit log's record of an address that crossed the failed-auth limit."""
    with session_factory() as session:
        audit.record(session, "auth.failures", "api", address=address, failures=failures)
        session.commit()


def batch_sender() -> BatchSender:
    """The API's publisher: batches of job messages, one confirm wait each."""
    # Imported here, as in publish_job below.
    from workers import tasks
    from workers.celery_app import app

    return BatchSender(app, tasks.apply_order_command.name, app.conf.task_queues[0])


def publish_job(message: JobMessage) -> None:
    """Publish one job's message now and wait for the broker's confirm."""
    # Imported here so that importing the web app does not configure Celery
    # before the process knows its settings.
    from workers import tasks

    tasks.publish_job(message)


def resources() -> Resources:
    return current_app.extensions["orderly"]
