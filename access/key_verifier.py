"""Checking API keys on every request without a database query per request.

A key's tenant and secret hash never change, so each API process keeps the
keys it has looked up for a minute. Only revocation and rotation change a key:
both write a marker in Redis (`orderly:revoked-key:<id>`, holding the time
the key stops working: 0 for a revocation, the end of the overlap for a
rotation; kept for longer than a process keeps a key), and every request
reads that marker, one Redis round trip. So a revoked key answers 401 at
once, and a rotated one when its overlap ends, in every process.

It fails closed: when Redis cannot be read, the key is looked up again in
PostgreSQL, which knows the revocation. If the marker could not be written
when the key was revoked (Redis down at that moment), the revocation says so:
processes that hold the key keep accepting it for at most KEEP_SECONDS.

A failed authentication costs no query either. Each process knows the ids of
all keys ever issued (KnownKeyIds: loaded once, then only the keys created
since, at most every REFRESH_SECONDS): a key whose id was never issued is
refused without a lookup. A key created a moment ago is found by the next
refresh; requests that carry an unknown id wait for it (at most
REFRESH_SECONDS), so a flood of made-up keys costs one small query per
REFRESH_SECONDS per process, however fast it comes. A known id with a wrong
secret is checked against the key held in memory.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

from access import api_keys, audit
from infra.redis_client import FailFast
from infra.unit_of_work import UnitOfWork

KEEP_SECONDS = 60.0
UNKNOWN_KEEP_SECONDS = 5.0
REFRESH_SECONDS = 0.2
# Longer than any process keeps a key, so the marker outlives every copy.
REVOKED_MARKER_SECONDS = 2 * int(KEEP_SECONDS)
MAX_KEYS = 10_000


def revoked_marker(key_id: str) -> str:
    return f"orderly:revoked-key:{key_id}"


def announce_revoked(client: redis.Redis, key_id: str, at: datetime | None = None) -> bool:
    """Tell every API process that the key stops working at `at` (now when
    None); False if Redis could not be reached (then cached copies live on
    for up to KEEP_SECONDS)."""
    ends = at.timestamp() if at else 0.0
    keep = REVOKED_MARKER_SECONDS + max(0, int(ends - time.time()))
    try:
        client.set(revoked_marker(key_id), str(ends), ex=keep)
    except redis.RedisError:
        return False
    return True


@dataclass(frozen=True)
class _Held:
    key: api_keys.StoredKey | None  # None: unknown or revoked
    until: float


class KnownKeyIds:
    """The ids of every key ever issued (revoked ones too: ids are never reused)."""

    # Keys committed late (a transaction begun before the last refresh) still
    # have a created_at within this margin of the newest seen; and at most once
    # a minute the whole set is read again, for any key committed later still.
    MARGIN = timedelta(minutes=5)
    FULL_RELOAD_SECONDS = 60.0

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._ids: set[str] = set()
        self._newest: datetime | None = None
        self._refreshed_at = float("-inf")  # when the last finished refresh began
        self._reloaded_at = float("-inf")  # when the last full read began
        self._refreshing = False
        self._done = threading.Condition()

    def __contains__(self, key_id: str) -> bool:
        if key_id in self._ids:
            return True
        asked_at = time.monotonic()
        with self._done:
            # Wait for a refresh that began after this request arrived; start
            # one if none is under way. Every request waiting meanwhile shares it.
            while not (key_id in self._ids or self._refreshed_at >= asked_at):
                if not self._refreshing:
                    self._refreshing = True
                    break
                self._done.wait()
            else:
                return key_id in self._ids
        try:
            began, found = self._query()
        except Exception:  # PostgreSQL unreachable: this request fails (503), the next one tries again
            with self._done:
                self._refreshing = False
                self._done.notify_all()
            raise
        with self._done:
            for found_id, created_at in found:
                self._ids.add(found_id)
                self._newest = max(self._newest or created_at, created_at)
            self._refreshed_at = began
            self._refreshing = False
            self._done.notify_all()
        return key_id in self._ids

    def _query(self) -> tuple[float, list[tuple[str, datetime]]]:
        """Keys created since the newest seen (all at first), at most every REFRESH_SECONDS."""
        time.sleep(max(0.0, self._refreshed_at + REFRESH_SECONDS - time.monotonic()))
        began = time.monotonic()
        since = self._newest - self.MARGIN if self._newest else None
        if began - self._reloaded_at > self.FULL_RELOAD_SECONDS:
            since, self._reloaded_at = None, began
        with UnitOfWork(self._session_factory) as uow:
            return began, api_keys.ids_created_since(uow.session, since)


class KeyVerifier:
    def __init__(self, session_factory: sessionmaker[Session], client: redis.Redis, guard: FailFast) -> None:
        """`session_factory` should be an autocommit one: each lookup is one statement."""
        self._session_factory = session_factory
        self._client = client
        self._redis = guard
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()
        self._known = KnownKeyIds(session_factory)

    def verify(self, presented: str) -> api_keys.Principal | None:
        """The key's principal, or None for a malformed, unknown or revoked key."""
        parsed = api_keys.parse(presented)
        if parsed is None:
            return None
        key_id, secret = parsed
        held = self._held.get(key_id)
        if held is None or held.until < time.monotonic():
            if key_id not in self._known:
                return None  # never issued: no lookup
            key, looked_up = self._look_up(key_id), True
        else:
            key, looked_up = held.key, False
        # Constant-time comparison: the hash of a wrong secret leaks nothing by timing.
        if key is None or not hmac.compare_digest(key.secret_sha256, api_keys.sha256(secret)) or key.expired():
            return None
        if looked_up:
            # Fresh from PostgreSQL, so not revoked; last_used_at is written at
            # most once a minute, so at most once per lookup.
            with UnitOfWork(self._session_factory) as uow:
                api_keys.touch(uow.session, key)
                uow.commit()
        else:
            marker = self._redis.call(self._marker, key_id)
            revoked = None if marker is None else marker[0] is not None and float(marker[0]) <= time.time()
            if revoked or (revoked is None and self._look_up(key_id) is None):
                self._forget(key_id)
                return None
        return api_keys.Principal(key_id=key_id, tenant_id=key.tenant_id)

    def _marker(self, key_id: str) -> tuple[Any]:
        """The key's revocation marker, wrapped: (None,) when there is none."""
        return (self._client.get(revoked_marker(key_id)),)

    def holds(self, presented: str) -> bool:
        """Whether this process holds the key as valid right now (memory only:
        no revocation check, so only a hint, e.g. for the failed-auth throttle)."""
        parsed = api_keys.parse(presented)
        held = self._held.get(parsed[0]) if parsed else None
        if parsed is None or held is None or held.key is None or held.until < time.monotonic():
            return False
        return hmac.compare_digest(held.key.secret_sha256, api_keys.sha256(parsed[1])) and not held.key.expired()

    def _look_up(self, key_id: str) -> api_keys.StoredKey | None:
        with UnitOfWork(self._session_factory) as uow:
            key = api_keys.find_active(uow.session, key_id)
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


def revoke(uow: UnitOfWork, client: redis.Redis, key_id: str, actor: str) -> Revocation:
    """Revoke the key in PostgreSQL (and record it in the audit log), then
    tell the API processes through Redis."""
    with uow:
        revoked = api_keys.revoke_key(uow.session, key_id)
        if revoked:
            audit.record(uow.session, "key.revoked", actor, key_id)
        uow.commit()
    return Revocation(revoked, revoked and announce_revoked(client, key_id))
