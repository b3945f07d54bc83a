"""What one API process shares: its clients (infra/bootstrap.py) and the
request-path services built on them, made on the first request of each
gunicorn process."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial

from flask import Flask, current_app

import config
from access import audit
from access.auth_throttle import FailedAuthThrottle
from access.key_verifier import KeyVerifier
from access.rate_limit import KeyRateLimiter
from config import Settings
from infra.bootstrap import Clients, Role, build
from infra.errors import Overloaded
from infra.publisher import BackgroundPublisher
from infra.unit_of_work import UnitOfWork
from orders.backlog import TenantBacklog
from orders.cache import OrderCache
from orders.finished import Finished
from orders.unit_of_work import OrdersUnitOfWork
from orders.waits import JobWaits
from webhooks.secrets import SecretBox
from webhooks.unit_of_work import WebhooksUnitOfWork
from webhooks.urls import UrlPolicy


@dataclass
class Resources:
    settings: Settings
    clients: Clients
    cache: OrderCache
    rate_limiter: KeyRateLimiter
    backlog: TenantBacklog
    keys: KeyVerifier
    auth_throttle: FailedAuthThrottle
    job_waits: JobWaits
    finished: Finished  # wakes the requests waiting on a job, counts it
    webhook_secrets: SecretBox
    webhook_urls: UrlPolicy

    @classmethod
    def build(cls, settings: Settings) -> Resources:
        clients = build(settings, Role.API)
        # The key check, the rate limiter, the failed-auth throttle, the tenant
        # count and the wake-ups share one Redis and its guard: once it fails,
        # all of them skip it for a while.
        redis, guard = clients.redis, clients.redis_guard
        return cls(
            settings=settings,
            clients=clients,
            cache=OrderCache.from_clients(clients),
            rate_limiter=KeyRateLimiter(redis, settings.rate_limit_per_key, guard=guard),
            backlog=TenantBacklog(redis, settings.tenant_max_unfinished_jobs, guard=guard),
            keys=KeyVerifier(clients.autocommit_session_factory, redis, guard),
            auth_throttle=FailedAuthThrottle(
                redis, guard, on_burst=partial(record_failed_auth_burst, clients), limit=settings.failed_auth_limit
            ),
            job_waits=JobWaits(clients.subscriber, settings.max_waits_per_key),
            finished=Finished.over_redis(clients),
            webhook_secrets=SecretBox(settings.webhook_secrets_key),
            webhook_urls=UrlPolicy.from_settings(
                settings.webhook_allowed_networks, settings.webhook_allow_http, testing=config.testing()
            ),
        )

    @property
    def publisher(self) -> BackgroundPublisher:
        return self.clients.background_publisher

    def accepting(self) -> Resources:
        """Refuse new commands (503) while the broker does not take them: checked
        before anything is committed, so a refused command leaves nothing behind."""
        reason = self.publisher.refusal()
        if reason is not None:
            raise Overloaded(f"{reason}: try again later", retry_after=5)
        return self

    def orders(self) -> OrdersUnitOfWork:
        """A transaction of its own (BEGIN ... COMMIT)."""
        return OrdersUnitOfWork(self.clients.session_factory)

    def orders_autocommit(self) -> OrdersUnitOfWork:
        """For use cases whose every statement is atomic by itself: no BEGIN / COMMIT round trips."""
        return OrdersUnitOfWork(self.clients.autocommit_session_factory)

    def webhooks(self) -> WebhooksUnitOfWork:
        return WebhooksUnitOfWork(self.clients.session_factory)

    def webhooks_autocommit(self) -> WebhooksUnitOfWork:
        return WebhooksUnitOfWork(self.clients.autocommit_session_factory)


def record_failed_auth_burst(clients: Clients, address: str, failures: int) -> None:
    """The audit log's record of an address that crossed the failed-auth limit."""
    with UnitOfWork(clients.session_factory) as uow:
        audit.record(uow.session, "auth.failures", "api", address=address, failures=failures)
        uow.commit()


_building = threading.Lock()


def install(app: Flask, settings: Settings) -> None:
    """Resources are built on first use: `flask --app web jobs list` (the CLI,
    which has clients of its own) never builds the API's."""
    app.extensions["orderly.settings"] = settings


def resources() -> Resources:
    extensions = current_app.extensions
    res: Resources | None = extensions.get("orderly")
    if res is None:
        with _building:
            res = extensions.get("orderly")
            if res is None:
                res = extensions["orderly"] = Resources.build(extensions["orderly.settings"])
    return res
