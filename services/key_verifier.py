"""Checking API keys on every request without a database query per request.

A key's tenant and secret hash never change, so each API process keeps the
keys it has looked up for a minute. Only revocation changes a key: revoking
writes a marker in Redis (`orderly:revoked-key:<id>`, kept for longer than a
process keeps a key), and every request checks that marker, one Redis round
trip. So a revoked key answers 401 at once, in every process.

It fails closed: when Redis cannot be read, the key is looked up again in
PostgreSQL, which knows the revocation. If the marker could not be written
when the key was revoked (Redis down at that moment), the revocation says so:
processes that hold the key keep accepting it for at most KEEP_SECONDS.

Unknown key ids are remembered for a few seconds too, so a flood of requests
with a made-up key costs one query per process every few seconds.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass

import redis
from sqlalchemy.orm import Session, sessionmaker

from services import apikeys
from services.redis_client import FailFast

KEEP_SECONDS = 60.0
UNKNOWN_KEEP_SECONDS = 5.0
# Longer than any process keeps a key, so the marker outlives every copy.
REVOKED_MARKER_SECONDS = 2 * int(KEEP_SECONDS)
MAX_KEYS = 10_000


def revoked_marker(key_id: str) -> str:
    return f"orderly:revoked-key:{key_id}"


def announce_revoked(client: redis.Redis, key_id: str) -> bool:
    """Tell every API process that the key is revoked; False if Redis could
    not be reached (then cached copies live on for up to KEEP_SECONDS)."""
    try:
        client.set(revoked_marker(key_id), "1", ex=REVOKED_MARKER_SECONDS)
    except redis.RedisError:
        return False
    return True


@dataclass(frozen=True)
class _Held:
    key: apikeys.StoredKey | None  # None: unknown or revoked
    until: float


class KeyVerifier:
    def __init__(self, session_factory: sessionmaker[Session], client: redis.Redis, guard: FailFast) -> None:
        """`session_factory` should be an autocommit one: each lookup is one statement."""
        self._session_factory = session_factory
        self._client = client
        self._redis = guard
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    def verify(self, presented: str) -> apikeys.Principal | None:
        """The key's principal, or None for a malformed, unknown or revoked key."""
        parsed = apikeys.parse(presented)
        if parsed is None:
            return None
        key_id, secret = parsed
        held = self._held.get(key_id)
        if held is None or held.until < time.monotonic():
            key, looked_up = self._look_up(key_id), True
        else:
            key, looked_up = held.key, False
        # Constant-time comparison: the hash of a wrong secret leaks nothing by timing.
        if key is None or not hmac.compare_digest(key.secret_sha256, apikeys.sha256(secret)):
            return None
        if looked_up:
            # Fresh from PostgreSQL, so not revoked; last_used_at is written at
            # most once a minute, so at most once per lookup.
            with self._session_factory() as session:
                apikeys.touch(session, key)
        else:
            revoked = self._redis.call(self._client.exists, revoked_marker(key_id))
            if revoked or (revoked is None and self._look_up(key_id) is None):
                self._forget(key_id)
                return None
        return apikeys.Principal(key_id=key_id, tenant_id=key.tenant_id)

    def _look_up(self, key_id: str) -> apikeys.StoredKey | None:
        with self._session_factory() as session:
            key = apikeys.find_active(session, key_id)
        keep = KEEP_SECONDS if key else UNKNOWN_KEEP_SECONDS
        with self._lock:
            if len(self._held) >= MAX_KEYS:
                self._held.pop(next(iter(self._held)))  # the oldest entry
            self._held[key_id] = _Held(key, time.monotonic() + keep)
        return key

    def _forget(self, key_id: str) -> None:
        with self._lock:
            self._held.pop(key_id, None)


@dataclass(frozen=True)
class Revocation:
    revoked: bool  # False: no active key with that id
    announced: bool  # False: Redis was unreachable; cached copies live on for up to KEEP_SECONDS


def revoke(session_factory: sessionmaker[Session], client: redis.Redis, key_id: str) -> Revocation:
    """Revoke the key in PostgreSQL, then tell the API processes through Redis."""
    with session_factory() as session:
        revoked = apikeys.revoke_key(session, key_id)
        session.commit()
    return Revocation(revoked, revoked and announce_revoked(client, key_id))
