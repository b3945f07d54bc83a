"""Per-key rate limit and per-tenant cap on unfinished jobs: 429 with
Retry-After, one noisy tenant never starves another, and what happens when
Redis (the limiter's store) is down."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from infra.redis_client import make_redis
from orders.backlog import TenantBacklog
from tests.integration import stack
from tests.integration.client import ORDER, Api
from tests.integration.servers import stopped
from tests.integration.test_delivery import paused

RATE = 5  # requests per minute per key, on this module's API


@pytest.fixture(scope="module")
def limited_url(running: stack.Running) -> Iterator[str]:
    """A second API on the same servers, with tiny limits."""
    port = stack.free_port()
    api = stack.start_api(port, workers=1, RATE_LIMIT_PER_KEY=f"{RATE}/minute", TENANT_MAX_UNFINISHED_JOBS="3")
    url = f"http://127.0.0.1:{port}"
    try:
        stack.wait_ready(url, api)
        yield url
    finally:
        stack.stop(api)


@pytest.fixture
def limited(new_api: Callable[[], Api], limited_url: str) -> Callable[[], Api]:
    """A new tenant's client of the limited API."""

    def make() -> Api:
        api = new_api()
        return Api(limited_url, api.key, api.tenant_id)

    return make


def test_a_key_over_its_rate_gets_429_and_others_do_not(limited):
    noisy, quiet = limited(), limited()
    answers = [noisy.get("/api/v1/orders").status_code for _ in range(RATE + 3)]
    assert answers[:RATE] == [200] * RATE
    assert answers[RATE:] == [429] * 3
    refused = noisy.get("/api/v1/orders")
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["type"].endswith("/rate-limited")
    # The noisy tenant's flood costs the other tenant nothing.
    assert [quiet.get("/api/v1/orders").status_code for _ in range(RATE)] == [200] * RATE


def test_graphql_shares_the_keys_rate_limit_with_rest(limited):
    client = limited()
    query = {"query": '{ job(id: "00000000-0000-0000-0000-000000000000") { id } }'}
    rest = [client.get("/api/v1/orders").status_code for _ in range(RATE - 2)]
    graphql = [client.post("/api/v1/graphql", json=query).status_code for _ in range(4)]
    assert rest == [200] * (RATE - 2)
    assert graphql == [200, 200, 429, 429]  # the same budget, whichever API spends it
    assert client.get("/api/v1/orders").status_code == 429


def test_the_rate_limit_fails_open_while_redis_is_down(limited):
    api = limited()
    with stopped("redis"):
        answers = [api.get("/api/v1/orders").status_code for _ in range(RATE + 3)]
    # Redis is the limiter's store: without it requests are let through rather
    # than refused, and PostgreSQL still answers them.
    assert answers == [200] * (RATE + 3)


def test_a_tenant_with_too_many_unfinished_jobs_gets_429(limited, running, base_url):
    noisy, quiet = limited(), limited()
    poller = Api(base_url, noisy.key, noisy.tenant_id)  # polls on the main API: within the rate limit
    with paused(running.worker):  # nothing finishes meanwhile
        jobs = [noisy.post("/api/v1/orders", json=ORDER) for _ in range(3)]
        assert [job.status_code for job in jobs] == [202] * 3
        refused = noisy.post("/api/v1/orders", json=ORDER)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        assert "unfinished jobs" in refused.json()["detail"]
        assert quiet.post("/api/v1/orders", json=ORDER).status_code == 202
    for job in jobs:
        assert poller.wait(job.json(), timeout=30)["status"] == "succeeded"
    # Finished jobs leave the count when it is next seeded from PostgreSQL.
    time.sleep(TenantBacklog.SEED_LIFETIME_MS / 1000)
    assert noisy.post("/api/v1/orders", json=ORDER).status_code == 202  # room again


def test_the_tenant_cap_holds_while_redis_is_down(limited, running, base_url):
    noisy = limited()
    poller = Api(base_url, noisy.key, noisy.tenant_id)
    with paused(running.worker), stopped("redis"):
        jobs = [noisy.post("/api/v1/orders", json=ORDER) for _ in range(3)]
        assert [job.status_code for job in jobs] == [202] * 3
        # Counted in PostgreSQL instead: the cap fails closed, unlike the rate limit.
        assert noisy.post("/api/v1/orders", json=ORDER).status_code == 429
    for job in jobs:
        assert poller.wait(job.json(), timeout=30)["status"] == "succeeded"


def test_concurrent_accepts_cannot_overshoot_the_cap_together(settings):
    backlog = TenantBacklog(make_redis(settings.redis_url), cap=10)
    tenant, in_database = uuid.uuid4(), 4  # what PostgreSQL would count
    with ThreadPoolExecutor(max_workers=16) as pool:
        admitted = list(pool.map(lambda _: backlog.admit(tenant, lambda: in_database), range(40)))
    assert admitted.count(True) == 10 - in_database
