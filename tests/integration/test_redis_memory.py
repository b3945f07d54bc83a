"""Redis at its memory limit: counters and markers are never evicted, cache
tombstones are never evicted before plain cache entries.

Each test starts a scratch redis-server with the eviction policy the local
stack's server really runs (read from it) and a small memory limit, fills it
with the app's own writes, and checks what survived."""

from __future__ import annotations

import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from access.auth_throttle import FailedAuthThrottle
from access.key_verifier import announce_revoked, revoked_marker
from access.rate_limit import KeyRateLimiter
from infra.redis_client import FailFast
from orders.cache import OrderCache
from tests.integration.servers import redis_admin
from tests.integration.stack import free_port


def running_policy(server: str) -> str:
    return str(redis_admin(server).config_get("maxmemory-policy")["maxmemory-policy"])


@pytest.fixture
def scratch_redis() -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def start(policy: str, maxmemory: str) -> redis.Redis:
        port = free_port()
        folder = tempfile.mkdtemp(prefix="orderly-redis-")
        started.append(subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--maxmemory", maxmemory, "--maxmemory-policy", policy, "--dir", folder],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
        client = redis.Redis(port=port, socket_timeout=5)
        for _ in range(100):
            try:
                client.ping()
                return client
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("scratch redis-server did not start")

    yield start
    for process in started:
        process.kill()
        process.wait(10)


def evicted(client: redis.Redis) -> int:
    return int(client.info("stats")["evicted_keys"])


def test_the_cache_evicts_plain_entries_never_tombstones(scratch_redis):
    policy = running_policy("cache")
    assert policy == "volatile-lru"
    client = scratch_redis(policy, "4mb")
    cache = OrderCache(client, ttl_seconds=300)
    tombstoned = [uuid.uuid4() for _ in range(300)]
    for order_id in tombstoned:
        assert cache.invalidate(order_id, 7)
    order = {"id": "x", "items": [{"sku": "S" * 40, "quantity": 1}] * 20, "note": "n" * 1000}
    filled = [uuid.uuid4() for _ in range(6000)]  # ~16 MB of entries into 4 MB
    for order_id in filled:
        cache.fill(order_id, 1, order)
    assert evicted(client) > 1000  # the limit was reached, many times over
    # Every tombstone is still there (a stale fill of version < 7 is refused) ...
    assert [client.get(cache.key(order_id)) for order_id in tombstoned] == [b"7|"] * len(tombstoned)
    cache.fill(tombstoned[0], 6, order)
    assert cache.get(tombstoned[0]) is None
    # ... while the plain entries made room, and the newest are served.
    present = sum(1 for order_id in filled if client.exists(cache.key(order_id)))
    assert 0 < present < len(filled) / 2
    assert cache.get(filled[-1]) == order
    # Tombstones have no TTL; the relay's sweep deletes them once due.
    assert client.ttl(cache.key(tombstoned[0])) == -1
    assert cache.sweep_tombstones(now=time.time() + OrderCache.TOMBSTONE_TTL_SECONDS + 1) == len(tombstoned)
    assert not any(client.exists(cache.key(order_id)) for order_id in tombstoned)


def test_counters_and_markers_are_never_evicted_and_their_users_fall_back(scratch_redis):
    policy = running_policy("state")
    assert policy == "noeviction"
    client = scratch_redis(policy, "3mb")
    guard = FailFast("test")
    limiter = KeyRateLimiter(client, "1000/minute", guard=guard)
    throttle = FailedAuthThrottle(client, guard, on_burst=lambda *_: None, limit=3)
    revoked = [uuid.uuid4().hex[:16] for _ in range(50)]
    for key_id in revoked:
        assert announce_revoked(client, key_id)
    for n in range(50):
        assert limiter.retry_after(f"key-{n}") is None
        throttle.failed(f"10.0.0.{n}")
    # Fill the rest with more state until Redis refuses writes.
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        for n in range(100_000):
            client.set(f"orderly:filler:{n}", "x" * 1000)
    assert evicted(client) == 0
    assert all(client.exists(revoked_marker(key_id)) for key_id in revoked)  # revocations hold
    # At the limit the users of this Redis take their documented fallbacks:
    # the rate limiter lets the request through, the throttle counts in memory.
    assert limiter.retry_after("a-new-key") is None
    for _ in range(4):
        retry_after = throttle.failed("10.9.9.9")
    assert retry_after is not None  # 4 > 3, counted in this process
