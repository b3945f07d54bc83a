"""The per-tenant cap on unfinished (queued or running) jobs, counted in Redis.

A tenant's count lives in Redis for one second at a time. It is seeded from
PostgreSQL's exact count, then every accepted command increments it
atomically. Finished jobs are not subtracted: the next seed, at most a second
later, sees them gone. So:

- concurrent accepts cannot overshoot the cap together (the check and the
  increment are one Lua script);
- crashes cannot make it drift for more than a second (a counter kept only
  in Redis would drift for good when a worker dies between commit and
  decrement);
- PostgreSQL counts a tenant's backlog once a second, not once per command,
  so the cost of accepting does not grow with the backlog.

The count errs on the refusing side: a job finished during the second still
counts, and so does an accept that then failed (404, 412). When Redis cannot
be reached the cap is checked against PostgreSQL's count directly: slower,
never open.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import redis

from infra.redis_client import FailFast

# KEYS[1] the tenant's count; ARGV: cap, seed ('' when the caller has none yet),
# seed lifetime (ms). Returns 1 admitted (and counted), 0 refused, -1 no count.
_ADMIT = """
local count = redis.call('GET', KEYS[1])
if not count then
  if ARGV[2] == '' then return -1 end
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  count = ARGV[2]
end
if tonumber(count) >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
return 1
"""


class TenantBacklog:
    SEED_LIFETIME_MS = 1000

    def __init__(
        self, client: redis.Redis, cap: int, prefix: str = "orderly:backlog:", guard: FailFast | None = None
    ) -> None:
        self.cap = cap
        self._prefix = prefix
        self._admit = client.register_script(_ADMIT)
        self._redis = guard or FailFast("tenant backlog count")

    def admit(self, tenant_id: uuid.UUID, count_in_database: Callable[[], int]) -> bool:
        """Count one more unfinished job for the tenant, unless it is at its cap.

        `count_in_database` gives the tenant's exact number of unfinished jobs;
        it is called only when Redis has no fresh count or cannot be reached.
        """
        keys = [f"{self._prefix}{tenant_id}"]
        verdict = self._redis.call(self._admit, keys=keys, args=[self.cap, "", self.SEED_LIFETIME_MS])
        if verdict == -1:
            seed = count_in_database()
            verdict = self._redis.call(self._admit, keys=keys, args=[self.cap, seed, self.SEED_LIFETIME_MS])
            if verdict is None:
                return seed < self.cap
        if verdict is None:
            return count_in_database() < self.cap
        return bool(verdict == 1)
