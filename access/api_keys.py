"""API keys: `ok_<key id>_<secret>`. The key id is public (find and revoke a
leaked key by it); the 256-bit secret is stored only as its SHA-256, which is
enough for a random secret of that size (no password-style stretching needed).

Functions take the caller's session and never commit: the caller's unit of
work does (infra/unit_of_work.py)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, or_, select, update
from sqlalchemy.orm import Session

from models import ApiKey, Tenant
from models.base import utcnow

PREFIX = "ok"
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    tenant_id: uuid.UUID
    plaintext: str


def sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def get_or_create_tenant(session: Session, name: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.name == name))
    if tenant is None:
        tenant = Tenant(name=name)
        session.add(tenant)
        session.flush()
    return tenant


def create_key(session: Session, tenant_name: str, expires_at: datetime | None = None) -> IssuedKey:
    """Create a key for the tenant (created if new); the plaintext is returned once."""
    tenant = get_or_create_tenant(session, tenant_name)
    return _issue(session, tenant.id, expires_at)


def _issue(session: Session, tenant_id: uuid.UUID, expires_at: datetime | None) -> IssuedKey:
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)  # 256 bits
    session.add(ApiKey(id=key_id, tenant_id=tenant_id, secret_sha256=sha256(secret), expires_at=expires_at))
    session.flush()
    return IssuedKey(key_id=key_id, tenant_id=tenant_id, plaintext=f"{PREFIX}_{key_id}_{secret}")


@dataclass(frozen=True)
class Rotation:
    successor: IssuedKey
    old_key_expires_at: datetime


def rotate_key(session: Session, key_id: str, overlap: timedelta) -> Rotation | None:
    """A new key for the same tenant; the old one keeps working for `overlap`
    (unless it expires sooner), so clients can switch without downtime.
    None if there is no active key with that id."""
    old = session.scalar(select(ApiKey).where(ApiKey.id == key_id, *_active()).with_for_update())
    if old is None:
        return None
    ends = utcnow() + overlap
    old.expires_at = min(old.expires_at, ends) if old.expires_at else ends
    return Rotation(_issue(session, old.tenant_id, None), old.expires_at)


def _active() -> tuple[Any, ...]:
    """Where-clauses of a key that works now: not revoked, not expired."""
    return (ApiKey.revoked_at.is_(None), or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > func.now()))


@dataclass(frozen=True)
class KeyInfo:
    """What an operator may see of a key: never the secret, nor its hash."""

    key_id: str
    tenant: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None
    tenant_id: uuid.UUID


def list_keys(session: Session, tenant_name: str | None = None) -> list[KeyInfo]:
    query = select(ApiKey, Tenant.name).join(Tenant, Tenant.id == ApiKey.tenant_id).order_by(ApiKey.created_at)
    if tenant_name is not None:
        query = query.where(Tenant.name == tenant_name)
    return [
        KeyInfo(key.id, name, key.created_at, key.last_used_at, key.revoked_at, key.expires_at, key.tenant_id)
        for key, name in session.execute(query)
    ]


def revoke_key(session: Session, key_id: str) -> bool:
    """Revoke the key at once (the next request with it answers 401); False if
    there is no such key or it was already revoked."""
    revoked = session.execute(
        update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=utcnow())
    )
    return bool(cast(CursorResult[Any], revoked).rowcount)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key and its tenant."""

    key_id: str
    tenant_id: uuid.UUID


@dataclass(frozen=True)
class StoredKey:
    """What is needed to check a presented key."""

    key_id: str
    tenant_id: uuid.UUID
    secret_sha256: str
    last_used_at: datetime | None
    expires_at: datetime | None = None

    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= utcnow()


def parse(presented: str) -> tuple[str, str] | None:
    """(key id, secret) of a well-formed key, else None."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        return None
    return key_id, secret


def find_active(session: Session, key_id: str) -> StoredKey | None:
    """The key unless it is unknown, revoked or expired (one query)."""
    row = session.execute(
        select(ApiKey.tenant_id, ApiKey.secret_sha256, ApiKey.last_used_at, ApiKey.expires_at).where(
            ApiKey.id == key_id, *_active()
        )
    ).first()
    return StoredKey(key_id, row.tenant_id, row.secret_sha256, row.last_used_at, row.expires_at) if row else None


def ids_created_since(session: Session, since: datetime | None) -> list[tuple[str, datetime]]:
    """(id, created_at) of every key created after `since` (all keys when None)."""
    query = select(ApiKey.id, ApiKey.created_at)
    if since is not None:
        query = query.where(ApiKey.created_at > since)
    return [(row.id, row.created_at) for row in session.execute(query)]


def touch(session: Session, key: StoredKey) -> None:
    """Record that the key was used, unless that was recorded in the last minute."""
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        session.execute(update(ApiKey).where(ApiKey.id == key.key_id).values(last_used_at=now))


def authenticate(session: Session, presented: str) -> Principal | None:
    """The key's principal, or None for a malformed, unknown or revoked key,
    straight from PostgreSQL (the API uses access/key_verifier.py). Its use
    is recorded with the caller's commit."""
    parsed = parse(presented)
    key = find_active(session, parsed[0]) if parsed else None
    # Constant-time comparison: the hash of a wrong secret leaks nothing by timing.
    if parsed is None or key is None or not hmac.compare_digest(key.secret_sha256, sha256(parsed[1])):
        return None
    touch(session, key)
    return Principal(key_id=key.key_id, tenant_id=key.tenant_id)
