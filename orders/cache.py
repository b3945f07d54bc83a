"""Cache-aside for orders in Redis, safe against the stale-fill race.

Each entry is "<version>|<json>"; an invalidation leaves a tombstone "<version>|"
carrying the version the writer just committed. A fill is stored only when it
is newer than what is there, so a reader that loaded v1 before a writer
committed v2 cannot put v1 back after the invalidation (the race described in
"Scaling Memcache at Facebook", solved there with leases).

Tombstones must outlive plain entries under memory pressure (an evicted
tombstone would let a stale fill in). The cache's Redis runs volatile-lru,
which evicts only keys with a TTL: entries get one, tombstones do not. Each
tombstone is listed in a sorted set by the time it may go, and the relay
deletes due ones (`sweep_tombstones`).

Redis is an optimisation: every failure is logged and treated as a miss, and
after one the cache is skipped for a few seconds so a hung Redis costs one
short timeout, not one per request. An invalidation that cannot reach Redis
reports it, and the writer records it in PostgreSQL for the relay to retry.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from typing import Any

import redis

from infra.bootstrap import Clients
from infra.redis_client import FailFast

# KEYS[1] key; ARGV: version, json, ttl. Tombstones block older versions only,
# entries block the same version too (nothing to gain from rewriting it).
_FILL = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, '|', 1, true)
  local held = tonumber(string.sub(cur, 1, sep - 1))
  local wanted = tonumber(ARGV[1])
  local tombstone = sep == string.len(cur)
  if held > wanted or (held == wanted and not tombstone) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[3])
return 1
"""

# KEYS[1] key, KEYS[2] the tombstones' index; ARGV: committed version, the
# time (epoch seconds) after which the tombstone may go. Keeps an entry
# already as new. No TTL on the tombstone: volatile-lru cannot evict it.
_INVALIDATE = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local sep = string.find(cur, '|', 1, true)
  if tonumber(string.sub(cur, 1, sep - 1)) >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|')
redis.call('ZADD', KEYS[2], ARGV[2], KEYS[1])
return 1
"""

# KEYS[1] the tombstones' index; ARGV: now (epoch seconds), how many at most.
# Deletes due keys that still hold a tombstone (a fill may have replaced it).
_SWEEP = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, key in ipairs(due) do
  local cur = redis.call('GET', key)
  if cur and string.sub(cur, -1) == '|' then redis.call('DEL', key) end
  redis.call('ZREM', KEYS[1], key)
end
return #due
"""


class OrderCache:
    # Longer than any reader can sit between its database read and its fill.
    TOMBSTONE_TTL_SECONDS = 60

    def __init__(
        self, client: redis.Redis, ttl_seconds: int, prefix: str = "orderly:order:", guard: FailFast | None = None
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._prefix = prefix
        self._fill = client.register_script(_FILL)
        self._invalidate = client.register_script(_INVALIDATE)
        self._sweep = client.register_script(_SWEEP)
        self._tombstones = f"{prefix}tombstones"
        self._redis = guard or FailFast("cache")

    @classmethod
    def from_clients(cls, clients: Clients) -> OrderCache:
        """The process's cache: its Redis and its skip window (infra/bootstrap.py)."""
        return cls(clients.cache_redis, clients.settings.cache_ttl_seconds, guard=clients.cache_guard)

    def ping(self) -> None:
        """Raises if the cache's Redis does not answer (readiness)."""
        self._client.ping()

    def key(self, order_id: uuid.UUID) -> str:
        return f"{self._prefix}{order_id}"

    def get(self, order_id: uuid.UUID) -> dict[str, Any] | None:
        """The cached order, or None on a miss, a tombstone or a Redis failure."""
        raw = self._redis.call(self._client.get, self.key(order_id))
        if not raw:
            return None
        _, _, body = raw.partition(b"|")
        return json.loads(body) if body else None

    def fill(self, order_id: uuid.UUID, version: int, order: dict[str, Any]) -> None:
        self._redis.call(self._fill, keys=[self.key(order_id)], args=[version, json.dumps(order), self._ttl])

    def invalidate(self, order_id: uuid.UUID, committed_version: int) -> bool:
        """Replace the entry with a tombstone for `committed_version`.

        False when Redis could not be reached (or was skipped after a recent
        failure): the caller must record the invalidation to retry it later.
        """
        return self.invalidate_many([(order_id, committed_version)])[0]

    def invalidate_many(self, versions: Sequence[tuple[uuid.UUID, int]]) -> list[bool]:
        """A tombstone for each (order id, committed version), in one round
        trip; all False when Redis could not be reached (record them to retry)."""
        due = int(time.time()) + self.TOMBSTONE_TTL_SECONDS

        def tombstones() -> list[Any]:
            pipe = self._client.pipeline(transaction=False)
            for order_id, version in versions:
                self._invalidate(keys=[self.key(order_id), self._tombstones], args=[version, due], client=pipe)
            return list(pipe.execute())

        done = self._redis.call(tombstones)
        return [done is not None] * len(versions)

    def sweep_tombstones(self, at_most: int = 1000, now: float | None = None) -> int | None:
        """Delete tombstones older than TOMBSTONE_TTL_SECONDS (the relay calls
        this every round); how many were due, None if Redis failed."""
        due = int(time.time() if now is None else now)
        swept = self._redis.call(self._sweep, keys=[self._tombstones], args=[due, at_most])
        return None if swept is None else int(swept)
