"""When to try a request again, and how long to wait first.

Retried: connection errors and timeouts (the request may or may not have
reached the API: safe only because every command carries an Idempotency-Key,
the same across its retries), `429` and `503`. The wait honours the answer's
`Retry-After` and adds jitter so that many clients told the same number do
not come back together; without one it is capped exponential backoff with
full jitter.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

RETRIED_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.2  # seconds, doubled per attempt when the API gave no Retry-After
    max_delay: float = 30.0
    jitter: Callable[[float, float], float] = random.uniform

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before attempt `attempt + 1` (`attempt` counts from 1)."""
        told = _seconds(retry_after)
        if told is not None:
            # At least what the API asked for, plus up to 20 % (or 0.5 s) more.
            return min(self.max_delay, told + self.jitter(0, max(0.5, told * 0.2)))
        return self.jitter(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After in seconds; the API sends delta-seconds (an HTTP date is not used)."""
    if retry_after is None or not (retry_after.strip().isascii() and retry_after.strip().isdigit()):
        return None
    return float(retry_after.strip())
